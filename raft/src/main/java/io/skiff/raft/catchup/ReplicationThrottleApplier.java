package io.skiff.raft.catchup;

import io.skiff.raft.RaftNode;
import io.skiff.raft.metadata.MetadataImage;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the cluster's replication throttle, a cluster-wide dynamic broker config in the metadata
 * ({@value #KEY}, bytes per second; absent: none), to this broker's {@link
 * ReplicaFetcher#throttle()} whenever the metadata image changes. The value lives in the metadata
 * log, so a broker restarted in the middle of a move obeys it again as soon as its image has caught
 * up. Thread-safe: called on the metadata group's apply thread.
 */
public final class ReplicationThrottleApplier implements Consumer<MetadataImage> {
  /** Kafka's name for the bytes per second the replicas catching up on a broker may fetch. */
  public static final String KEY = "follower.replication.throttled.rate";

  private static final Logger LOG = LoggerFactory.getLogger(ReplicationThrottleApplier.class);

  private final ByteRateLimiter throttle;

  public ReplicationThrottleApplier(RaftNode node) {
    this.throttle = node.replicaFetcher().throttle();
  }

  @Override
  public void accept(MetadataImage image) {
    final String value = image.clusterConfigs().get(KEY);
    final long rate;
    try {
      rate = value == null ? ByteRateLimiter.UNLIMITED : parse(value);
    } catch (IllegalArgumentException e) {
      LOG.warn("Ignoring {}: {}", KEY, e.getMessage());
      return;
    }
    if (rate != throttle.rate()) {
      throttle.setRate(rate);
      if (rate == ByteRateLimiter.UNLIMITED) {
        LOG.info("Replication throttle lifted: new replicas catch up at full speed");
      } else {
        LOG.info("Replication throttle: new replicas on this broker fetch at most {} B/s", rate);
      }
    }
  }

  /**
   * Reads a throttle value: a whole number of bytes per second, at least 1024.
   *
   * @throws IllegalArgumentException with a message naming what is expected
   */
  public static long parse(String value) {
    final long rate;
    try {
      rate = Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + value + "' is not a number of bytes per second, e.g. 2097152");
    }
    if (rate < 1024) {
      throw new IllegalArgumentException(
          rate + " bytes per second is below the least throttle, 1024 (delete it to lift it)");
    }
    return rate;
  }
}
