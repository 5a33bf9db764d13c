package io.skiff.broker.group;

import io.skiff.broker.api.KafkaErrors;
import io.skiff.log.InvalidBatchException;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.NotLeaderException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes coordinator records to an offsets partition: one batch per call, {@code acks=all}, bounded
 * by {@code offsets.commit.timeout.ms}, answered with the Kafka error the client should act on.
 * Thread-safe (stateless apart from its settings).
 */
final class CoordinatorLog {
  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorLog.class);

  private final int timeoutMs;

  CoordinatorLog(int timeoutMs) {
    this.timeoutMs = timeoutMs;
  }

  /** Appends {@code records}; completes with NONE once replicated, else the error to report. */
  CompletableFuture<Errors> write(OffsetsPartition partition, List<SimpleRecord> records) {
    if (!partition.leading()) {
      return CompletableFuture.completedFuture(Errors.NOT_COORDINATOR);
    }
    CompletableFuture<?> appended;
    try {
      appended = partition.replica.append(CoordinatorRecords.batch(records), Acks.ALL);
    } catch (RuntimeException e) {
      appended = CompletableFuture.failedFuture(e);
    }
    return appended
        .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .handle((ok, failure) -> failure == null ? Errors.NONE : error(partition, failure));
  }

  /** Where a group of {@code partition} stores its metadata after a rebalance. */
  ClassicGroup.Store store(OffsetsPartition partition) {
    return (groupId, metadata) ->
        write(
            partition,
            List.of(CoordinatorRecords.group(System.currentTimeMillis(), groupId, metadata)));
  }

  /** Kafka's mapping of a failed coordinator append to what the client should do. */
  private static Errors error(OffsetsPartition partition, Throwable failure) {
    final Throwable e = KafkaErrors.unwrap(failure);
    if (e instanceof NotLeaderException) {
      return Errors.NOT_COORDINATOR;
    }
    if (e instanceof TimeoutException) {
      return Errors.COORDINATOR_NOT_AVAILABLE;
    }
    if (e instanceof InvalidBatchException) {
      return Errors.INVALID_COMMIT_OFFSET_SIZE;
    }
    LOG.warn("Write to offsets partition {} failed: {}", partition.index, e.toString());
    return Errors.UNKNOWN_SERVER_ERROR;
  }
}
