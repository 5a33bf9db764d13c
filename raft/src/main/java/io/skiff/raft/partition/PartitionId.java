package io.skiff.raft.partition;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * One partition of one topic. Its Raft group id is derived deterministically from the topic id and
 * the partition index, so every broker computes the same group for the same partition.
 *
 * @param topic topic name, as Kafka clients know it
 * @param topicId the topic's id (Kafka's topic UUID); stays the same if a topic is deleted and a
 *     new one with the same name is created, so the two never share a group
 * @param partition partition index, from 0
 */
public record PartitionId(String topic, UUID topicId, int partition) {
  public PartitionId {
    if (topic == null || topic.isEmpty() || topic.contains("/") || topic.contains("\0")) {
      throw new IllegalArgumentException("invalid topic name '" + topic + "'");
    }
    if (partition < 0) {
      throw new IllegalArgumentException("partition must be >= 0 but was " + partition);
    }
  }

  /** The Raft group of this partition: a name-based UUID of topic id and partition. */
  public RaftGroupId groupId() {
    final byte[] name = ("skiff/" + topicId + "/" + partition).getBytes(StandardCharsets.UTF_8);
    return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(name));
  }

  /** Directory name of the partition log, Kafka's {@code <topic>-<partition>}. */
  public String logDirName() {
    return topic + "-" + partition;
  }

  @Override
  public String toString() {
    return logDirName();
  }
}
