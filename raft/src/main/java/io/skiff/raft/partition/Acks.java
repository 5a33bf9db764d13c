package io.skiff.raft.partition;

/** When a produce is answered, as Kafka's {@code acks}. */
public enum Acks {
  /** At once, before replication: {@code acks=0}. */
  NONE,
  /** Once the leader wrote it to its partition log: {@code acks=1}. */
  LEADER,
  /** Once a majority of the group has it and the high watermark passed it: {@code acks=all}. */
  ALL;

  /** Kafka's numeric {@code acks}: 0, 1 or -1. */
  public static Acks fromKafka(short acks) {
    return switch (acks) {
      case 0 -> NONE;
      case 1 -> LEADER;
      case -1 -> ALL;
      default -> throw new IllegalArgumentException("acks must be 0, 1 or -1 but was " + acks);
    };
  }
}
