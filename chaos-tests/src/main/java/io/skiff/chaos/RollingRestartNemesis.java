package io.skiff.chaos;

import java.util.List;

/**
 * A rolling restart, as an operator upgrades a cluster: each broker in turn is stopped gracefully
 * ({@code SIGTERM}, its shutdown runs) and started again, and the next one only once it is ready.
 * {@link #start} stops the first broker; {@link #heal} starts it again and rolls through the rest,
 * so the fault window spans the whole roll.
 *
 * <p>Driven by one thread at a time.
 */
public final class RollingRestartNemesis implements Nemesis {
  private final BrokerControl cluster;
  private final List<Integer> order;
  private boolean rolling;

  /**
   * @param order the brokers, in the order to restart them
   */
  public RollingRestartNemesis(BrokerControl cluster, List<Integer> order) {
    if (order.isEmpty()) {
      throw new IllegalArgumentException("a rolling restart needs at least one broker");
    }
    this.cluster = cluster;
    this.order = List.copyOf(order);
  }

  @Override
  public String start() throws Exception {
    rolling = true;
    cluster.stop(order.get(0));
    return "rolling restart (SIGTERM, start, wait ready) of brokers " + order;
  }

  @Override
  public String heal() throws Exception {
    if (!rolling) {
      return "no rolling restart";
    }
    final long started = System.nanoTime();
    cluster.restart(order.get(0));
    for (int id : order.subList(1, order.size())) {
      cluster.stop(id);
      cluster.restart(id);
    }
    rolling = false;
    return "restarted brokers "
        + order
        + " one by one in "
        + (System.nanoTime() - started) / 1_000_000_000
        + " s";
  }
}
