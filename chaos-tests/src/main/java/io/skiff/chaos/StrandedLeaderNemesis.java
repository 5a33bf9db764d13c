package io.skiff.chaos;

import java.time.Duration;
import java.util.List;

/**
 * Strands a partition's leader, then kills it: every other broker is paused ({@code SIGSTOP}) so
 * the leader is alone, it is left to take writes for a moment, then it is killed ({@code kill -9})
 * and the others resumed; they elect a leader without whatever it wrote alone, and the heal
 * restarts it. With {@code acks=all} nothing it wrote alone was acknowledged (no quorum); with
 * {@code acks=1} those writes were acknowledged and are lost: the fault that shows the checker
 * bites.
 *
 * <p>Driven by one thread at a time.
 */
public final class StrandedLeaderNemesis implements Nemesis {
  private final ProcessCluster cluster;
  private final LeaderLocator locator;
  private final Duration alone;
  private int killed = -1;

  public StrandedLeaderNemesis(ProcessCluster cluster, LeaderLocator locator, Duration alone) {
    this.cluster = cluster;
    this.locator = locator;
    this.alone = alone;
  }

  @Override
  public String start() throws Exception {
    final int leader = locator.getAsInt();
    final List<Integer> others = locator.others(leader);
    for (int id : others) {
      cluster.pause(id);
    }
    try {
      Thread.sleep(alone.toMillis());
      killed = leader;
      cluster.kill(leader);
    } finally {
      for (int id : others) {
        cluster.resume(id);
      }
    }
    return "stranded broker "
        + leader
        + " (paused "
        + others
        + ") "
        + alone.toMillis()
        + " ms, then kill -9";
  }

  @Override
  public String heal() throws Exception {
    if (killed < 0) {
      return "nothing killed";
    }
    final int id = killed;
    cluster.restart(id);
    killed = -1;
    return "restarted broker " + id;
  }
}
