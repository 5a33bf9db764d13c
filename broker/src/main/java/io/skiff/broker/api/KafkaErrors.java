package io.skiff.broker.api;

import io.skiff.log.InvalidBatchException;
import io.skiff.log.LogStorageException;
import io.skiff.log.OffsetOutOfRangeException;
import io.skiff.raft.metadata.MetadataException;
import io.skiff.raft.partition.NotLeaderException;
import io.skiff.raft.producer.ProducerStateException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps Skiff's exceptions to the Kafka error codes clients act on. */
public final class KafkaErrors {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaErrors.class);

  private KafkaErrors() {}

  /**
   * A request's {@code current_leader_epoch} against this replica's (its Raft term), as Kafka
   * checks it: a newer one means this replica has not yet learned of a later leader
   * (UNKNOWN_LEADER_EPOCH), an older one that the client's metadata is stale (FENCED_LEADER_EPOCH).
   * Both make the client refresh its metadata and retry; -1 skips the check.
   */
  public static Errors leaderEpochCheck(int requested, long local) {
    if (requested < 0 || requested == local) {
      return Errors.NONE;
    }
    return requested > local ? Errors.UNKNOWN_LEADER_EPOCH : Errors.FENCED_LEADER_EPOCH;
  }

  public static Errors of(Throwable error) {
    final Throwable e = unwrap(error);
    if (e instanceof InvalidBatchException invalid) {
      return switch (invalid.reason()) {
        case CORRUPT, TRUNCATED, INVALID_LENGTH -> Errors.CORRUPT_MESSAGE;
        case TOO_LARGE -> Errors.MESSAGE_TOO_LARGE;
        case UNSUPPORTED_MAGIC -> Errors.UNSUPPORTED_FOR_MESSAGE_FORMAT;
        case INVALID_OFFSETS, MISSING_KEY -> Errors.INVALID_RECORD;
      };
    }
    if (e instanceof ProducerStateException producer) {
      return switch (producer.reason()) {
        case OUT_OF_ORDER_SEQUENCE -> Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
        case INVALID_EPOCH -> Errors.INVALID_PRODUCER_EPOCH;
      };
    }
    if (e instanceof NotLeaderException) {
      return Errors.NOT_LEADER_OR_FOLLOWER;
    }
    if (e instanceof LogStorageException) {
      return Errors.KAFKA_STORAGE_ERROR;
    }
    if (e instanceof OffsetOutOfRangeException) {
      return Errors.OFFSET_OUT_OF_RANGE;
    }
    if (e instanceof TimeoutException) {
      return Errors.REQUEST_TIMED_OUT;
    }
    if (e instanceof MetadataException m) {
      return switch (m.error()) {
        case NONE -> Errors.NONE;
        case TOPIC_ALREADY_EXISTS -> Errors.TOPIC_ALREADY_EXISTS;
        case UNKNOWN_TOPIC -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
        case INVALID_PARTITIONS -> Errors.INVALID_PARTITIONS;
        case INVALID_REPLICATION_FACTOR -> Errors.INVALID_REPLICATION_FACTOR;
        case INVALID_REPLICA_ASSIGNMENT -> Errors.INVALID_REPLICA_ASSIGNMENT;
        case UNKNOWN_BROKER -> Errors.BROKER_NOT_AVAILABLE;
        case INVALID_CONFIG -> Errors.INVALID_CONFIG;
        case INVALID_REQUEST -> Errors.INVALID_REQUEST;
        case NO_REASSIGNMENT_IN_PROGRESS -> Errors.NO_REASSIGNMENT_IN_PROGRESS;
      };
    }
    final Errors kafka = Errors.forException(e);
    if (kafka == Errors.UNKNOWN_SERVER_ERROR) {
      LOG.error("Unexpected error answering a request", e);
    }
    return kafka;
  }

  /** The message to send along with an error, if any. */
  public static String message(Throwable error) {
    return unwrap(error).getMessage();
  }

  /** The cause inside any CompletionException/ExecutionException wrappers. */
  public static Throwable unwrap(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
