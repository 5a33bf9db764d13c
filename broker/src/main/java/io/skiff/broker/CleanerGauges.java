package io.skiff.broker;

import com.codahale.metrics.MetricRegistry;
import io.skiff.log.CleanerStats;
import io.skiff.log.SegmentedLog;
import io.skiff.raft.RaftNode;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.function.ToLongFunction;

/**
 * The log cleaner's gauges (Kafka's {@code LogCleaner} and {@code LogCleanerManager} beans), summed
 * over the replicas this broker hosts:
 *
 * <ul>
 *   <li>{@code log.cleaner.passes}: cleaner passes run;
 *   <li>{@code log.cleaner.bytes.read} / {@code .bytes.written}: bytes of segments cleaned, before
 *       and after (Kafka's bytes read and written by the cleaner);
 *   <li>{@code log.cleaner.records.removed}: superseded records and expired tombstones removed;
 *   <li>{@code log.cleaner.max.dirty.ratio}: the highest dirty share among compacted logs at their
 *       last check (Kafka's {@code max-dirty-percent}, as a fraction).
 * </ul>
 *
 * Counts are those of the logs open now: a replica moved away or deleted takes its share with it.
 * Each gauge walks the hosted replicas when read (a scrape), nothing in between. Thread-safe.
 */
final class CleanerGauges {
  private CleanerGauges() {}

  static void register(MetricRegistry metrics, RaftNode raft) {
    metrics.gauge("log.cleaner.passes", () -> () -> sum(raft, CleanerStats::passes));
    metrics.gauge("log.cleaner.bytes.read", () -> () -> sum(raft, CleanerStats::bytesRead));
    metrics.gauge("log.cleaner.bytes.written", () -> () -> sum(raft, CleanerStats::bytesWritten));
    metrics.gauge(
        "log.cleaner.records.removed", () -> () -> sum(raft, CleanerStats::recordsRemoved));
    metrics.gauge(
        "log.cleaner.max.dirty.ratio",
        () ->
            () ->
                raft.partitions().stream().mapToDouble(p -> stats(p).dirtyRatio()).max().orElse(0));
  }

  private static long sum(RaftNode raft, ToLongFunction<CleanerStats> field) {
    return raft.partitions().stream().mapToLong(p -> field.applyAsLong(stats(p))).sum();
  }

  private static CleanerStats stats(ReplicatedPartition replica) {
    final SegmentedLog log = replica.log();
    return log == null ? CleanerStats.NONE : log.cleanerStats(); // null until the group starts
  }
}
