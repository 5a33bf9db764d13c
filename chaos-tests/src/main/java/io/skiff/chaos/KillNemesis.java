package io.skiff.chaos;

import java.util.function.IntSupplier;

/**
 * {@code kill -9} of one broker (a process or a container), healed by restarting it on its data.
 * The broker is chosen when the fault starts (a partition's leader, or any broker).
 *
 * <p>Driven by one thread at a time.
 */
public final class KillNemesis implements Nemesis {
  private final BrokerControl cluster;
  private final IntSupplier target;
  private int killed = -1;

  public KillNemesis(BrokerControl cluster, IntSupplier target) {
    this.cluster = cluster;
    this.target = target;
  }

  @Override
  public String start() throws Exception {
    killed = target.getAsInt();
    cluster.kill(killed);
    return "kill -9 broker " + killed;
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
