package io.skiff.raft;

/**
 * Thrown by the leader's sequencing step for a retry of an append it already sequenced: nothing is
 * appended, and the producer is answered with the offsets of the original once those are committed.
 * Carries no stack trace; it is a verdict, not a failure.
 */
final class DuplicateAppendException extends Exception {
  private static final long serialVersionUID = 1L;

  private final long baseOffset;
  private final long nextOffset;

  DuplicateAppendException(long baseOffset, long nextOffset) {
    super(
        "duplicate of the append at offsets [" + baseOffset + ", " + nextOffset + ")",
        null,
        false,
        false);
    this.baseOffset = baseOffset;
    this.nextOffset = nextOffset;
  }

  long baseOffset() {
    return baseOffset;
  }

  long nextOffset() {
    return nextOffset;
  }
}
