package io.skiff.raft.producer;

/**
 * An append from an idempotent producer that breaks the producer's sequence or epoch rules (see
 * {@link ProducerStateTable}); the broker answers it with the matching Kafka error and appends
 * nothing.
 */
public final class ProducerStateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Which rule the append broke. */
  public enum Reason {
    /** The first sequence does not follow the producer's last one (Kafka OUT_OF_ORDER_SEQUENCE). */
    OUT_OF_ORDER_SEQUENCE,
    /** The producer's epoch is older than the partition's (Kafka INVALID_PRODUCER_EPOCH). */
    INVALID_EPOCH
  }

  private final Reason reason;

  public ProducerStateException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
