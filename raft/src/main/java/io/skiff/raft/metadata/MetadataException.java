package io.skiff.raft.metadata;

/** A metadata change was refused; {@link #error()} maps to a Kafka error code. */
public final class MetadataException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why, in Kafka's terms. */
  public enum Error {
    NONE,
    TOPIC_ALREADY_EXISTS,
    UNKNOWN_TOPIC,
    INVALID_PARTITIONS,
    INVALID_REPLICATION_FACTOR,
    INVALID_REPLICA_ASSIGNMENT,
    UNKNOWN_BROKER,
    INVALID_CONFIG,
    INVALID_REQUEST,
    NO_REASSIGNMENT_IN_PROGRESS
  }

  private final Error error;

  public MetadataException(Error error, String message) {
    super(message);
    this.error = error;
  }

  public Error error() {
    return error;
  }
}
