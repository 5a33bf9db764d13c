package io.skiff.broker.api;

import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData.DescribableLogDirTopic;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsPartition;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsResult;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeLogDirs: the replicas this broker hosts, with each one's size in bytes on disk, in its
 * one log directory ({@code <data dir>/log}). {@code skiff partition reassign} and {@code skiff
 * broker decommission} follow a move's copied bytes with it (a new replica's size against its
 * leader's), as Kafka's tools do with {@code kafka-log-dirs}. {@code offsetLag} is how far the
 * replica's log end is behind its high watermark, as Kafka reports it for a current (not future)
 * replica. Stateless; thread-safe.
 */
public final class DescribeLogDirsHandler implements ApiHandler {
  private final ClusterView cluster;

  public DescribeLogDirsHandler(ClusterView cluster) {
    this.cluster = cluster;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final DescribeLogDirsRequestData request = (DescribeLogDirsRequestData) message;
    final Map<String, Set<Integer>> wanted = wanted(request);
    final Path dir = cluster.logDir();
    final DescribeLogDirsResult result =
        new DescribeLogDirsResult().setErrorCode(Errors.NONE.code()).setLogDir(dir.toString());
    final Map<String, DescribeLogDirsTopic> topics = new TreeMap<>();
    for (ReplicatedPartition replica : cluster.localReplicas()) {
      final PartitionId id = replica.id();
      final Set<Integer> partitions = wanted == null ? null : wanted.get(id.topic());
      if (wanted != null && (partitions == null || !partitions.contains(id.partition()))) {
        continue;
      }
      topics
          .computeIfAbsent(id.topic(), name -> new DescribeLogDirsTopic().setName(name))
          .partitions()
          .add(
              new DescribeLogDirsPartition()
                  .setPartitionIndex(id.partition())
                  .setPartitionSize(replica.log().sizeInBytes())
                  .setOffsetLag(Math.max(0, replica.highWatermark() - replica.logEndOffset()))
                  .setIsFutureKey(false));
    }
    result.topics().addAll(topics.values());
    try {
      final FileStore store = Files.getFileStore(Files.exists(dir) ? dir : dir.getParent());
      result.setTotalBytes(store.getTotalSpace()).setUsableBytes(store.getUsableSpace());
    } catch (IOException e) {
      result.setTotalBytes(-1).setUsableBytes(-1);
    }
    final DescribeLogDirsResponseData response = new DescribeLogDirsResponseData();
    response.results().add(result);
    return CompletableFuture.completedFuture(response);
  }

  /** Topic to partitions asked for; null for all. */
  private static Map<String, Set<Integer>> wanted(DescribeLogDirsRequestData request) {
    if (request.topics() == null) {
      return null;
    }
    final Map<String, Set<Integer>> wanted = new HashMap<>();
    for (DescribableLogDirTopic t : request.topics()) {
      wanted.put(t.topic(), Set.copyOf(t.partitions()));
    }
    return wanted;
  }
}
