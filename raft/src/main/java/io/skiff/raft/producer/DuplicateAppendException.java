package io.skiff.raft.producer;

/**
 * Thrown by the leader's sequencing step for a retry of an append it already sequenced: nothing is
 * appended, and the producer is answered with the offsets of the original once those are committed.
 * The leader term it was sequenced in binds the wait: the original's offsets are this producer's
 * data only while that term's leader holds them. Carries no stack trace; it is a verdict, not a
 * failure.
 */
public final class DuplicateAppendException extends Exception {
  private static final long serialVersionUID = 1L;

  private final long baseOffset;
  private final long nextOffset;
  private final long term;

  DuplicateAppendException(long baseOffset, long nextOffset) {
    this(baseOffset, nextOffset, -1);
  }

  private DuplicateAppendException(long baseOffset, long nextOffset, long term) {
    super(
        "duplicate of the append at offsets [" + baseOffset + ", " + nextOffset + ")",
        null,
        false,
        false);
    this.baseOffset = baseOffset;
    this.nextOffset = nextOffset;
    this.term = term;
  }

  /** This verdict, reached by the leader of {@code term}. */
  public DuplicateAppendException inTerm(long term) {
    return new DuplicateAppendException(baseOffset, nextOffset, term);
  }

  public long baseOffset() {
    return baseOffset;
  }

  public long nextOffset() {
    return nextOffset;
  }

  /** The leader term the retry was sequenced in; -1 if not yet known. */
  public long term() {
    return term;
  }
}
