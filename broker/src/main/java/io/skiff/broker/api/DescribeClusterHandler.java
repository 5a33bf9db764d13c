package io.skiff.broker.api;

import io.skiff.raft.metadata.BrokerInfo;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeClusterResponseData.DescribeClusterBroker;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeCluster: the cluster id, the active brokers of the metadata image, and this broker as the
 * controller (every broker can change metadata through the metadata group, as Metadata also
 * answers). Authorized operations are not reported (no ACLs). Only the brokers endpoint type is
 * served: a request for controllers is answered {@code MISMATCHED_ENDPOINT_TYPE}, as a Kafka broker
 * does. Stateless; thread-safe.
 */
public final class DescribeClusterHandler implements ApiHandler {
  private static final byte BROKERS_ENDPOINT = 1;
  private static final byte CONTROLLERS_ENDPOINT = 2;

  private final ClusterView cluster;
  private final String clusterId;

  public DescribeClusterHandler(ClusterView cluster, String clusterId) {
    this.cluster = cluster;
    this.clusterId = clusterId;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final DescribeClusterRequestData request = (DescribeClusterRequestData) message;
    final short version = context.version();
    final DescribeClusterResponseData response =
        new DescribeClusterResponseData().setClusterId(clusterId).setControllerId(cluster.selfId());
    if (version >= 1 && request.endpointType() != BROKERS_ENDPOINT) {
      final Errors error =
          request.endpointType() == CONTROLLERS_ENDPOINT
              ? Errors.MISMATCHED_ENDPOINT_TYPE
              : Errors.UNSUPPORTED_ENDPOINT_TYPE;
      return CompletableFuture.completedFuture(
          response
              .setErrorCode(error.code())
              .setErrorMessage(
                  "this broker describes brokers (endpoint type 1), not endpoint type "
                      + request.endpointType()));
    }
    for (BrokerInfo b : cluster.image().brokers().values()) {
      if (b.active()) {
        response
            .brokers()
            .add(
                new DescribeClusterBroker()
                    .setBrokerId(b.nodeId())
                    .setHost(b.host())
                    .setPort(b.kafkaPort())
                    .setRack(b.rack().isEmpty() ? null : b.rack()));
      }
    }
    return CompletableFuture.completedFuture(response);
  }
}
