package io.skiff.chaos;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A slow, lossy network on every broker: {@code tc qdisc replace dev <device> root netem delay D J
 * loss L%} on each broker's egress (broker to broker and broker to client alike), healed by
 * deleting the qdisc.
 *
 * <p>Where the kernel has no {@code sch_netem} (a minimal VM kernel: {@code tc} answers "Specified
 * qdisc kind is unknown"), there is no way to add delay, and the nemesis falls back to the loss
 * alone, dropping egress packets at random with {@code iptables -m statistic}; its description says
 * so, and so does the history.
 *
 * <p>Driven by one thread at a time.
 */
public final class NetemNemesis implements Nemesis {
  private static final Logger LOG = LoggerFactory.getLogger(NetemNemesis.class);

  private final BrokerShell shell;
  private final String device;
  private final Duration delay;
  private final Duration jitter;
  private final int lossPercent;
  private final List<Integer> netem = new ArrayList<>();
  private final List<Integer> dropping = new ArrayList<>();

  /**
   * @param device the brokers' network interface on the cluster network, e.g. {@code eth0}
   * @param lossPercent packets lost, 0 to 100
   */
  public NetemNemesis(
      BrokerShell shell, String device, Duration delay, Duration jitter, int lossPercent) {
    if (lossPercent < 0 || lossPercent > 100) {
      throw new IllegalArgumentException("lossPercent must be 0..100, not " + lossPercent);
    }
    this.shell = shell;
    this.device = device;
    this.delay = delay;
    this.jitter = jitter;
    this.lossPercent = lossPercent;
  }

  @Override
  public String start() throws Exception {
    boolean fallback = false;
    for (int id : shell.ids()) {
      try {
        shell.exec(id, tc("replace"));
        netem.add(id);
      } catch (IOException e) {
        if (!e.getMessage().contains("qdisc kind is unknown")) {
          throw e;
        }
        dropping.add(id);
        shell.exec(id, dropRule("-A"));
        fallback = true;
      }
    }
    final String netemArgs =
        "delay " + delay.toMillis() + "ms " + jitter.toMillis() + "ms loss " + lossPercent + "%";
    if (fallback) {
      return "lossy network on brokers "
          + dropping
          + ": loss "
          + lossPercent
          + "% (iptables statistic; no sch_netem in this kernel, so no delay)"
          + (netem.isEmpty() ? "" : "; netem " + netemArgs + " on brokers " + netem);
    }
    return "netem " + netemArgs + " on brokers " + netem;
  }

  @Override
  public String heal() throws Exception {
    if (netem.isEmpty() && dropping.isEmpty()) {
      return "no netem";
    }
    final List<Integer> all = new ArrayList<>(netem);
    all.addAll(dropping);
    final String healed = "healed network of brokers " + all;
    for (int id : netem) {
      undo(id, "tc", "qdisc", "del", "dev", device, "root");
    }
    for (int id : dropping) {
      undo(id, dropRule("-D"));
    }
    netem.clear();
    dropping.clear();
    return healed;
  }

  private void undo(int id, String... command) {
    try {
      shell.exec(id, command);
    } catch (Exception e) { // a broker restarted meanwhile has a fresh network namespace
      LOG.warn("cannot undo {} on broker {}: {}", String.join(" ", command), id, e.getMessage());
    }
  }

  private String[] tc(String op) {
    return new String[] {
      "tc",
      "qdisc",
      op,
      "dev",
      device,
      "root",
      "netem",
      "delay",
      delay.toMillis() + "ms",
      jitter.toMillis() + "ms",
      "loss",
      lossPercent + "%"
    };
  }

  private String[] dropRule(String op) {
    return new String[] {
      "iptables",
      "-w",
      op,
      "OUTPUT",
      "-o",
      device,
      "-m",
      "statistic",
      "--mode",
      "random",
      "--probability",
      Double.toString(lossPercent / 100.0),
      "-j",
      "DROP"
    };
  }
}
