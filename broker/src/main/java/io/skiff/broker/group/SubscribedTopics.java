package io.skiff.broker.group;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;

/**
 * The topics a consumer group's members subscribe to, read from their subscription metadata
 * (Kafka's consumer protocol), for OffsetDelete. Empty for an Empty group or another protocol type.
 * Stateless.
 */
final class SubscribedTopics {
  private SubscribedTopics() {}

  static Set<String> of(ClassicGroup group) {
    final Set<String> topics = new HashSet<>();
    synchronized (group) {
      if (group.state() == GroupState.EMPTY || !"consumer".equals(group.protocolType())) {
        return topics;
      }
      for (byte[] subscription : group.subscriptions()) {
        try {
          topics.addAll(
              ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(subscription)).topics());
        } catch (RuntimeException e) {
          // a member with unreadable metadata subscribes to nothing we can name
        }
      }
    }
    return topics;
  }
}
