package io.skiff.chaos;

import java.util.function.IntSupplier;

/**
 * Decommissions a broker under load, as {@code skiff broker decommission ID} does: the broker turns
 * draining and the cluster moves every replica off it (placement picks the targets) during the
 * fault window; the heal waits for the drain to finish ({@code --wait}), then recommissions the
 * broker ({@code skiff broker recommission ID}) so that the next fault finds it active (it holds no
 * replica until placement gives it some). Needs more brokers than the replication factor.
 *
 * <p>Driven by one thread at a time.
 */
public final class DecommissionNemesis implements Nemesis {
  private final SkiffCommandLine skiff;
  private final IntSupplier target;
  private int draining = -1;

  /**
   * @param skiff how to reach the cluster; its timeout bounds the wait for the drain
   * @param target the broker to decommission (e.g. a partition's leader)
   */
  public DecommissionNemesis(SkiffCommandLine skiff, IntSupplier target) {
    this.skiff = skiff;
    this.target = target;
  }

  @Override
  public String start() throws Exception {
    final int id = target.getAsInt();
    final String started = skiff.run("broker", "decommission", Integer.toString(id)).strip();
    draining = id;
    return "decommission of broker " + id + ": " + started;
  }

  @Override
  public String heal() throws Exception {
    if (draining < 0) {
      return "no decommission";
    }
    final String id = Integer.toString(draining);
    final String done = skiff.run("broker", "decommission", id, "--wait").strip();
    final String back = skiff.run("broker", "recommission", id).strip();
    draining = -1;
    return done + "; " + back;
  }
}
