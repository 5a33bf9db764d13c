package io.skiff.log;

/**
 * A read or offset operation asked for an offset outside {@code [logStartOffset, logEndOffset]}.
 * Carries both bounds so a caller can answer Kafka's OFFSET_OUT_OF_RANGE and a consumer can reset.
 */
public final class OffsetOutOfRangeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long requestedOffset;
  private final long logStartOffset;
  private final long logEndOffset;

  public OffsetOutOfRangeException(
      String log, long requestedOffset, long logStartOffset, long logEndOffset) {
    super(
        "offset "
            + requestedOffset
            + " is out of range for log "
            + log
            + ": valid offsets are ["
            + logStartOffset
            + ", "
            + logEndOffset
            + "]");
    this.requestedOffset = requestedOffset;
    this.logStartOffset = logStartOffset;
    this.logEndOffset = logEndOffset;
  }

  public long requestedOffset() {
    return requestedOffset;
  }

  public long logStartOffset() {
    return logStartOffset;
  }

  public long logEndOffset() {
    return logEndOffset;
  }
}
