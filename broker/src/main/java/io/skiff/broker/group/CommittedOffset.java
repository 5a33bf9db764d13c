package io.skiff.broker.group;

/**
 * An offset a group committed for one partition.
 *
 * @param offset the next offset the group will consume
 * @param leaderEpoch the leader epoch of the last consumed record, or -1
 * @param metadata the client's metadata string (never null; empty when none)
 * @param commitTimestamp when the coordinator accepted the commit (epoch ms)
 */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestamp) {
  public CommittedOffset {
    metadata = metadata == null ? "" : metadata;
  }
}
