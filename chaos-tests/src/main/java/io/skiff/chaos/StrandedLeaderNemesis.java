package io.skiff.chaos;

import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Strands a partition's leader, then kills it: every other broker is paused ({@code SIGSTOP}) so
 * the leader is alone, it is left to take writes for a moment, then it is killed ({@code kill -9})
 * and the others resumed; they elect a leader without whatever it wrote alone, and the heal
 * restarts it once they have. With {@code acks=all} nothing it wrote alone was acknowledged (no
 * quorum); with {@code acks=1} those writes were acknowledged and are lost: the fault that shows
 * the checker bites.
 *
 * <p>The heal waits for that new leader: a stranded broker restarted before the survivors elected
 * one comes back with the longest log, and the partition's next leader keeps what it wrote alone.
 *
 * <p>Driven by one thread at a time.
 */
public final class StrandedLeaderNemesis implements Nemesis {
  private static final Logger LOG = LoggerFactory.getLogger(StrandedLeaderNemesis.class);
  private static final long NEW_LEADER_WAIT_S = 30;
  private static final Duration NEW_LEADER_WAIT = Duration.ofSeconds(NEW_LEADER_WAIT_S);

  private final ProcessCluster cluster;
  private final LeaderLocator locator;
  private final Duration alone;
  private int killed = -1;
  private int unreplaced;

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
    final boolean replaced = awaitLeaderOtherThan(id);
    if (!replaced) {
      unreplaced++;
    }
    cluster.restart(id);
    killed = -1;
    return replaced
        ? "restarted broker " + id + " after a new leader was elected"
        : "restarted broker "
            + id
            + " (no new leader within "
            + NEW_LEADER_WAIT.toSeconds()
            + " s)";
  }

  /**
   * Heals that found no leader other than the stranded broker within {@value #NEW_LEADER_WAIT_S} s
   * of the kill (and restarted it anyway).
   */
  public int unreplaced() {
    return unreplaced;
  }

  /** Waits until the partition has a leader other than {@code id}; false if none came in time. */
  private boolean awaitLeaderOtherThan(int id) throws InterruptedException {
    final long deadline = System.nanoTime() + NEW_LEADER_WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      final int leader = locator.leader();
      if (leader >= 0 && leader != id) {
        return true;
      }
      Thread.sleep(200);
    }
    LOG.warn("no leader other than the stranded broker {} within {}", id, NEW_LEADER_WAIT);
    return false;
  }
}
