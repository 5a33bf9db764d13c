package io.skiff.log;

/**
 * A record batch broke a rule of the v2 format or of this log. Thrown before anything is written:
 * an append that throws this leaves the log unchanged. The {@link Reason} lets the protocol layer
 * answer with the matching Kafka error code.
 */
public final class InvalidBatchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Which rule was broken. */
  public enum Reason {
    /** Fewer bytes than the header or the batch length needs. */
    TRUNCATED,
    /** {@code batchLength} below the header size. */
    INVALID_LENGTH,
    /** Larger than {@code max.message.bytes}. */
    TOO_LARGE,
    /** Magic other than 2. */
    UNSUPPORTED_MAGIC,
    /** CRC32C mismatch or an undecodable record. */
    CORRUPT,
    /** Negative deltas, or offsets that do not continue the log. */
    INVALID_OFFSETS,
    /** A record without a key for a compacted log, which keeps the latest record per key. */
    MISSING_KEY
  }

  private final Reason reason;

  public InvalidBatchException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
