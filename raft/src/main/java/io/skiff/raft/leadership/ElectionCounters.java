package io.skiff.raft.leadership;

import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.metrics.LeaderElectionMetrics;

/**
 * The leader-election counters Ratis keeps per division (one per Raft group this server hosts),
 * summed over the divisions of one server: elections it ran as a candidate, election timeouts
 * (heartbeats from the leader missed), and leadership transfers it started.
 *
 * <p>Ratis registers one {@code leader_election} registry per division in its global registries,
 * prefixed with the member id ({@code broker-1@group-…}); several servers in one JVM (tests) are
 * told apart by that prefix. A division's counts leave the sum when its group is removed from this
 * server, so the sum can drop, which Prometheus treats as a counter reset.
 *
 * <p>Stateless; reads Ratis' thread-safe counters on every call. Thread-safe.
 */
public final class ElectionCounters {
  private final String memberPrefix;

  public ElectionCounters(RaftPeerId server) {
    this.memberPrefix = server + "@";
  }

  /** Elections this server ran as a candidate, won or lost. */
  public long elections() {
    return sum(LeaderElectionMetrics.LEADER_ELECTION_COUNT_METRIC);
  }

  /** Times this server's followers timed out waiting for a leader and started an election. */
  public long electionTimeouts() {
    return sum(LeaderElectionMetrics.LEADER_ELECTION_TIMEOUT_COUNT_METRIC);
  }

  /** Leadership transfers this server's leaders started (graceful drain, preferred leader). */
  public long leadershipTransfers() {
    return sum(LeaderElectionMetrics.TRANSFER_LEADERSHIP_COUNT_METRIC);
  }

  private long sum(String counter) {
    long total = 0;
    for (RatisMetricRegistry registry : MetricRegistries.global().getMetricRegistries()) {
      final MetricRegistryInfo info = registry.getMetricRegistryInfo();
      if (LeaderElectionMetrics.RATIS_LEADER_ELECTION_METRICS.equals(info.getMetricsComponentName())
          && info.getPrefix().startsWith(memberPrefix)) {
        total += registry.counter(counter).getCount();
      }
    }
    return total;
  }
}
