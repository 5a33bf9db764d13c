package io.skiff.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A slow, lossy network on every broker: {@code tc qdisc replace dev <device> root netem delay D J
 * loss L%} on each broker's egress (broker to broker and broker to client alike), healed by
 * deleting the qdisc.
 *
 * <p>Where the kernel has no {@code sch_netem} (a minimal VM kernel: {@code tc} answers "Specified
 * qdisc kind is unknown"), the same fault is built from what such kernels have: the loss drops
 * egress packets at random with {@code iptables -m statistic}, and the delay sends the rest to a
 * netfilter queue served by {@link PacketDelay}, a user-space delayer started in the broker (its
 * class file is copied in; the broker image's Java runtime runs it). Its description says so. Heal
 * deletes the rules first, lets the delayer release what it holds, then stops it.
 *
 * <p>Driven by one thread at a time.
 */
public final class NetemNemesis implements Nemesis {
  private static final Logger LOG = LoggerFactory.getLogger(NetemNemesis.class);
  private static final int QUEUE = 7;
  private static final String DELAYER_DIR = "/tmp/skiff-packet-delay";
  private static final String DELAYER_CLASS = PacketDelay.class.getName();

  private final BrokerShell shell;
  private final String device;
  private final Duration delay;
  private final Duration jitter;
  private final int lossPercent;
  private final List<Integer> netem = new ArrayList<>();
  private final List<Integer> userSpace = new ArrayList<>();

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
    for (int id : shell.ids()) {
      try {
        shell.exec(id, tc("replace"));
        netem.add(id);
      } catch (IOException e) {
        if (!e.getMessage().contains("qdisc kind is unknown")) {
          throw e;
        }
        userSpace.add(id);
        startUserSpace(id);
      }
    }
    final String netemArgs =
        "delay " + delay.toMillis() + "ms " + jitter.toMillis() + "ms loss " + lossPercent + "%";
    if (!userSpace.isEmpty()) {
      return "lossy, slow network on brokers "
          + userSpace
          + ": "
          + netemArgs
          + " (no sch_netem in this kernel: iptables statistic drops, user-space NFQUEUE delay)"
          + (netem.isEmpty() ? "" : "; netem " + netemArgs + " on brokers " + netem);
    }
    return "netem " + netemArgs + " on brokers " + netem;
  }

  private void startUserSpace(int id) throws Exception {
    if (!delays()) {
      if (lossPercent > 0) {
        shell.exec(id, dropRule("-A"));
      }
      return;
    }
    shell.write(id, DELAYER_DIR + "/" + DELAYER_CLASS.replace('.', '/') + ".class", delayerClass());
    final String out = DELAYER_DIR + "/out";
    shell.exec(
        id,
        "bash",
        "-c",
        "nohup java -Xmx32m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
            + " --enable-native-access=ALL-UNNAMED -cp "
            + DELAYER_DIR
            + " "
            + DELAYER_CLASS
            + " "
            + QUEUE
            + " "
            + delay.toMillis()
            + " "
            + jitter.toMillis()
            + " > "
            + out
            + " 2>&1 < /dev/null & for i in $(seq 300); do grep -q ready "
            + out
            + " && exit 0; sleep 0.1; done; cat "
            + out
            + " >&2; exit 1");
    if (lossPercent > 0) {
      shell.exec(id, dropRule("-A"));
    }
    if (delays()) {
      shell.exec(id, queueRule("-A"));
    }
  }

  private boolean delays() {
    return !delay.isZero() || !jitter.isZero();
  }

  @Override
  public String heal() throws Exception {
    if (netem.isEmpty() && userSpace.isEmpty()) {
      return "no netem";
    }
    final List<Integer> all = new ArrayList<>(netem);
    all.addAll(userSpace);
    final String healed = "healed network of brokers " + all;
    for (int id : netem) {
      undo(id, "tc", "qdisc", "del", "dev", device, "root");
    }
    for (int id : userSpace) {
      if (delays()) {
        undo(id, queueRule("-D"));
      }
      if (lossPercent > 0) {
        undo(id, dropRule("-D"));
      }
    }
    if (!userSpace.isEmpty() && delays()) {
      Thread.sleep(delay.plus(jitter).toMillis() + 100); // the delayers release what they hold
      for (int id : userSpace) {
        undo(id, "pkill", "-f", DELAYER_CLASS);
      }
    }
    netem.clear();
    userSpace.clear();
    return healed;
  }

  private void undo(int id, String... command) {
    try {
      shell.exec(id, command);
    } catch (Exception e) { // a broker restarted meanwhile has a fresh network namespace
      LOG.warn("cannot undo {} on broker {}: {}", String.join(" ", command), id, e.getMessage());
    }
  }

  private static byte[] delayerClass() throws IOException {
    final String name = PacketDelay.class.getSimpleName() + ".class";
    try (InputStream in = PacketDelay.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException(name + " is not on the class path");
      }
      return in.readAllBytes();
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

  private String[] queueRule(String op) {
    return egressRule(
        op, "-j", "NFQUEUE", "--queue-num", Integer.toString(QUEUE), "--queue-bypass");
  }

  private String[] dropRule(String op) {
    return egressRule(
        op,
        "-m",
        "statistic",
        "--mode",
        "random",
        "--probability",
        Double.toString(lossPercent / 100.0),
        "-j",
        "DROP");
  }

  /** {@code iptables -w <op> OUTPUT -o <device> <match and target>}. */
  private String[] egressRule(String op, String... matchAndTarget) {
    final String[] head = {"iptables", "-w", op, "OUTPUT", "-o", device};
    final String[] rule = Arrays.copyOf(head, head.length + matchAndTarget.length);
    System.arraycopy(matchAndTarget, 0, rule, head.length, matchAndTarget.length);
    return rule;
  }
}
