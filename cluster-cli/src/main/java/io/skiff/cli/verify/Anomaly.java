package io.skiff.cli.verify;

/**
 * The anomaly classes of Jepsen's Kafka queue workload that {@link QueueChecker} looks for. Any one
 * of them makes a history invalid.
 */
public enum Anomaly {
  /** An acknowledged value never read, although reads reached its offset in its partition. */
  LOST_WRITE,
  /** One value read or acknowledged at more than one offset. */
  DUPLICATE,
  /** One offset of a partition holding two different values. */
  INCONSISTENT_OFFSET,
  /** A producer's later acknowledged send got an offset no higher than its earlier one. */
  NONMONOTONIC_SEND,
  /** A consumer read an offset no higher than the one it read before, with no reassignment. */
  NONMONOTONIC_POLL,
  /** A consumer's consecutive reads of a partition jumped over an offset known to hold a value. */
  POLL_SKIP,
  /** A value read that no one ever sent. */
  UNEXPECTED_VALUE,
  /** A group commit, begun after another completed, committed a lower offset for a partition. */
  COMMIT_REGRESSION
}
