package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.FetchSlice;
import io.skiff.log.TestBatches;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.AppendResult;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A producer for fault tests: appends distinct batches through whichever replica leads, retries on
 * leader changes, and remembers what was acknowledged so a test can check it all survived.
 */
final class Workload {
  private final RaftCluster cluster;
  private final PartitionId id;
  private final Map<Long, ByteBuffer> acknowledged = new ConcurrentSkipListMap<>();
  private int sent;

  Workload(RaftCluster cluster, PartitionId id) {
    this.cluster = cluster;
    this.id = id;
  }

  /** Appends {@code count} batches with acks=all, each retried until acknowledged. */
  void produce(int count) throws InterruptedException {
    for (int i = 0; i < count; i++) {
      final ByteBuffer batch = TestBatches.batch(0, 3, 64, 1_000_000L + sent++);
      appendUntilAcknowledged(batch);
    }
  }

  /**
   * Appends {@code before} batches, stops the node that leads the partition, appends {@code
   * whileDown} batches (acknowledged by another node, elected meanwhile) and starts the stopped
   * node again.
   *
   * @return the node that leads after the stop
   */
  int produceAcrossALeaderRestart(int before, int whileDown, Duration wait)
      throws InterruptedException, IOException {
    produce(before);
    final int oldLeader = cluster.leader(id, wait).leaderNodeId().orElseThrow();
    cluster.stop(oldLeader);
    produce(whileDown);
    final int newLeader = cluster.leader(id, wait).leaderNodeId().orElseThrow();
    assertThat(newLeader).as("leader after node %d stopped", oldLeader).isNotEqualTo(oldLeader);
    cluster.start(oldLeader);
    return newLeader;
  }

  private void appendUntilAcknowledged(ByteBuffer batch) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      final ReplicatedPartition leader;
      try {
        leader = cluster.leader(id, Duration.ofSeconds(30));
      } catch (AssertionError e) {
        continue;
      }
      try {
        final AppendResult result =
            leader.append(batch.duplicate(), Acks.ALL).get(10, TimeUnit.SECONDS);
        acknowledged.put(result.baseOffset(), batch);
        return;
      } catch (ExecutionException | TimeoutException | RuntimeException e) {
        Thread.sleep(50); // leader moved or stopped: find the new one
      }
    }
    throw new AssertionError("batch not acknowledged within 60 s");
  }

  int acknowledgedCount() {
    return acknowledged.size();
  }

  long highestAcknowledgedEnd() {
    return acknowledged.isEmpty()
        ? 0
        : ((ConcurrentSkipListMap<Long, ByteBuffer>) acknowledged).lastKey() + 3;
  }

  /**
   * Every acknowledged batch is in the replica's log at its offset, with the bytes sent (all but
   * base offset and leader epoch, which the leader assigned).
   */
  void assertAllAcknowledgedPresent(ReplicatedPartition replica) throws Exception {
    for (Map.Entry<Long, ByteBuffer> ack : acknowledged.entrySet()) {
      final FetchSlice slice = replica.log().read(ack.getKey(), 1, replica.highWatermark());
      assertThat(slice.firstOffset()).isEqualTo(ack.getKey());
      final ByteBuffer stored = ByteBuffer.allocate(slice.length());
      while (stored.hasRemaining()) {
        slice.channel().read(stored, slice.position() + stored.position());
      }
      final byte[] sentBytes = TestBatches.bytes(ack.getValue());
      final byte[] storedBytes = stored.array();
      assertThat(Arrays.copyOfRange(storedBytes, 16, storedBytes.length))
          .as("batch at offset %d", ack.getKey())
          .isEqualTo(Arrays.copyOfRange(sentBytes, 16, sentBytes.length));
    }
  }

  /** Waits for all running replicas to agree up to the leader's high watermark and compares. */
  void assertReplicasIdentical() throws Exception {
    final ReplicatedPartition leader = cluster.leader(id, Duration.ofSeconds(30));
    final long hw = leader.highWatermark();
    assertThat(hw).isGreaterThanOrEqualTo(highestAcknowledgedEnd());
    cluster.awaitHighWatermark(id, hw, Duration.ofSeconds(60));
    final byte[] reference = RaftCluster.logBytes(leader, hw);
    for (int node : cluster.runningIds()) {
      final ReplicatedPartition replica = cluster.replica(node, id);
      assertThat(RaftCluster.logBytes(replica, hw)).as("node %d", node).isEqualTo(reference);
      assertAllAcknowledgedPresent(replica);
    }
  }
}
