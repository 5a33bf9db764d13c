package io.skiff.raft.catchup;

/**
 * Bounds of the replica fetcher's buffers, with Kafka's key names.
 *
 * @param partitionMaxBytes {@code replica.fetch.max.bytes}: per partition per request (1 MiB)
 * @param responseMaxBytes {@code replica.fetch.response.max.bytes}: per response (10 MiB)
 * @param globalMaxBytes {@code replica.fetch.buffer.max.bytes}: all fetches of a broker (64 MiB)
 * @param threads {@code num.replica.fetchers}: fetcher threads (Kafka's default is 1)
 */
public record ReplicaFetchConfig(
    int partitionMaxBytes, int responseMaxBytes, int globalMaxBytes, int threads) {
  public ReplicaFetchConfig {
    if (partitionMaxBytes <= 0 || responseMaxBytes <= 0 || threads <= 0) {
      throw new IllegalArgumentException(
          "replica.fetch.max.bytes, replica.fetch.response.max.bytes and num.replica.fetchers"
              + " must be > 0");
    }
    if (globalMaxBytes < Math.min(partitionMaxBytes, responseMaxBytes)) {
      throw new IllegalArgumentException(
          "replica.fetch.buffer.max.bytes ("
              + globalMaxBytes
              + ") must hold at least one request of replica.fetch.max.bytes");
    }
  }

  public static ReplicaFetchConfig defaults() {
    return new ReplicaFetchConfig(1 << 20, 10 << 20, 64 << 20, 1);
  }

  /** The most one request may ask for. */
  int requestMaxBytes() {
    return Math.min(partitionMaxBytes, responseMaxBytes);
  }
}
