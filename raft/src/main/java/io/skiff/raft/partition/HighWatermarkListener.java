package io.skiff.raft.partition;

/**
 * Told when a partition's high watermark moves, so waiting fetches and {@code acks=all} produces
 * complete at once. Called on the partition's apply thread: implementations must not block.
 */
@FunctionalInterface
public interface HighWatermarkListener {
  void onHighWatermark(PartitionId partition, long highWatermark);
}
