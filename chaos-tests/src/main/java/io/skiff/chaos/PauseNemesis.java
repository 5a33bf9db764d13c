package io.skiff.chaos;

import java.util.function.IntSupplier;

/**
 * {@code SIGSTOP} of one broker process, healed by {@code SIGCONT}: the broker's sockets stay open
 * but nothing answers, as in a long GC pause or a VM freeze, then it carries on with stale views (a
 * paused leader wakes up deposed).
 *
 * <p>Driven by one thread at a time.
 */
public final class PauseNemesis implements Nemesis {
  private final ProcessCluster cluster;
  private final IntSupplier target;
  private int paused = -1;

  public PauseNemesis(ProcessCluster cluster, IntSupplier target) {
    this.cluster = cluster;
    this.target = target;
  }

  @Override
  public String start() throws Exception {
    paused = target.getAsInt();
    cluster.pause(paused);
    return "SIGSTOP broker " + paused;
  }

  @Override
  public String heal() throws InterruptedException {
    if (paused < 0) {
      return "nothing paused";
    }
    final int id = paused;
    cluster.resume(id);
    paused = -1;
    return "SIGCONT broker " + id;
  }
}
