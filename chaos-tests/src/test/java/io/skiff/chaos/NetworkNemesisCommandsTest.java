package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The commands the network nemeses run in each broker, without Docker: who drops whom, that a heal
 * deletes exactly what was added, and netem's fallback where the kernel has no netem (the container
 * test exercises them for real where Docker is).
 */
class NetworkNemesisCommandsTest {

  /** Records every command; fails {@code tc ... netem} like a kernel without sch_netem if asked. */
  private static final class RecordingShell implements BrokerShell {
    private final int size;
    private final boolean netemMissing;
    final List<String> commands = new ArrayList<>();

    RecordingShell(int size, boolean netemMissing) {
      this.size = size;
      this.netemMissing = netemMissing;
    }

    @Override
    public List<Integer> ids() {
      return IntStream.rangeClosed(1, size).boxed().toList();
    }

    @Override
    public String address(int id) {
      return "10.0.0." + id;
    }

    @Override
    public synchronized String exec(int id, String... command) throws IOException {
      final String line = id + ": " + String.join(" ", command);
      commands.add(line);
      if (netemMissing && line.contains(" netem ")) {
        throw new IOException(line + " exited 2: Error: Specified qdisc kind is unknown.");
      }
      return "";
    }

    @Override
    public synchronized void write(int id, String path, byte[] content) {
      commands.add(id + ": write " + path + " (" + content.length + " bytes)");
    }
  }

  @Test
  void isolatingTheLeaderDropsTrafficBetweenItAndEveryOtherBrokerAndHealDeletesTheSameRules()
      throws Exception {
    final RecordingShell shell = new RecordingShell(3, false);
    final PartitionNemesis nemesis = PartitionNemesis.isolateLeader(shell, () -> 2);

    assertThat(nemesis.start())
        .isEqualTo("partition: isolated leader [2] | [1, 3] (iptables DROP)");
    assertThat(shell.commands)
        .containsExactly(
            "1: bash -c iptables -w -A INPUT -s 10.0.0.2 -j DROP"
                + " && iptables -w -A OUTPUT -d 10.0.0.2 -j DROP",
            "2: bash -c iptables -w -A INPUT -s 10.0.0.1 -j DROP"
                + " && iptables -w -A OUTPUT -d 10.0.0.1 -j DROP"
                + " && iptables -w -A INPUT -s 10.0.0.3 -j DROP"
                + " && iptables -w -A OUTPUT -d 10.0.0.3 -j DROP",
            "3: bash -c iptables -w -A INPUT -s 10.0.0.2 -j DROP"
                + " && iptables -w -A OUTPUT -d 10.0.0.2 -j DROP");
    shell.commands.clear();

    assertThat(nemesis.heal()).isEqualTo("healed partition of brokers [1, 2, 3]");
    assertThat(shell.commands)
        .hasSize(3)
        .allMatch(c -> !c.contains(" -A "))
        .contains(
            "1: bash -c iptables -w -D INPUT -s 10.0.0.2 -j DROP;"
                + " iptables -w -D OUTPUT -d 10.0.0.2 -j DROP; true");
    shell.commands.clear();
    assertThat(nemesis.heal()).isEqualTo("no partition");
    assertThat(shell.commands).isEmpty();
  }

  @Test
  void aMinorityOfFiveIsTwoBrokersCutOffTheOtherThree() throws Exception {
    final RecordingShell shell = new RecordingShell(5, false);
    final String fault = PartitionNemesis.majorityMinority(shell, 7).start();

    assertThat(fault).matches("partition: minority \\[\\d, \\d] \\| \\[\\d, \\d, \\d] .*");
    // each minority broker drops 3 peers, each majority broker 2, both ways
    assertThat(shell.commands.stream().mapToLong(c -> c.split(" -A ").length - 1).sum())
        .isEqualTo(2 * 3 * 2 + 3 * 2 * 2);
  }

  @Test
  void aBridgeOfFiveCutsTwoFromTwoAndTheBridgeTalksToBoth() throws Exception {
    final RecordingShell shell = new RecordingShell(5, false);
    final PartitionNemesis nemesis = PartitionNemesis.bridge(shell, 3);

    final String fault = nemesis.start();

    final Matcher m =
        Pattern.compile("partition: bridge \\[(\\d), (\\d)] <- (\\d) -> \\[(\\d), (\\d)] .*")
            .matcher(fault);
    assertThat(m.matches()).as(fault).isTrue();
    final int bridge = Integer.parseInt(m.group(3));
    final String left = m.group(1) + m.group(2);
    final String right = m.group(4) + m.group(5);
    assertThat(shell.commands).hasSize(4).noneMatch(c -> c.startsWith(bridge + ": "));
    final String ipOf = "10.0.0.";
    for (char l : left.toCharArray()) {
      for (char r : right.toCharArray()) {
        assertThat(shell.commands)
            .anyMatch(c -> c.startsWith(l + ": ") && c.contains("INPUT -s " + ipOf + r + " "))
            .anyMatch(c -> c.startsWith(l + ": ") && c.contains("OUTPUT -d " + ipOf + r + " "))
            .anyMatch(c -> c.startsWith(r + ": ") && c.contains("INPUT -s " + ipOf + l + " "));
      }
    }
    assertThat(shell.commands).noneMatch(c -> c.contains(ipOf + bridge + " "));
    shell.commands.clear();

    assertThat(nemesis.heal()).startsWith("healed partition of brokers");
    assertThat(shell.commands).hasSize(4).allMatch(c -> c.contains(" -D "));
  }

  @Test
  void oneWayPartitionsDropOnlyOnTheReceivingSide() throws Exception {
    final RecordingShell shell = new RecordingShell(3, false);

    assertThat(PartitionNemesis.oneWayFromLeader(shell, () -> 2).start())
        .isEqualTo("partition: one-way: 2 -> [1, 3] dropped");
    assertThat(shell.commands)
        .containsExactly(
            "1: bash -c iptables -w -A INPUT -s 10.0.0.2 -j DROP",
            "3: bash -c iptables -w -A INPUT -s 10.0.0.2 -j DROP");
    shell.commands.clear();

    final PartitionNemesis toLeader = PartitionNemesis.oneWayToLeader(shell, () -> 2);
    assertThat(toLeader.start()).isEqualTo("partition: one-way: [1, 3] -> 2 dropped");
    assertThat(shell.commands)
        .containsExactly(
            "2: bash -c iptables -w -A INPUT -s 10.0.0.1 -j DROP"
                + " && iptables -w -A INPUT -s 10.0.0.3 -j DROP");
    shell.commands.clear();
    toLeader.heal();
    assertThat(shell.commands)
        .containsExactly(
            "2: bash -c iptables -w -D INPUT -s 10.0.0.1 -j DROP;"
                + " iptables -w -D INPUT -s 10.0.0.3 -j DROP; true");
  }

  @Test
  void netemDelaysAndDropsOnEveryBrokerAndHealRemovesTheQdisc() throws Exception {
    final RecordingShell shell = new RecordingShell(3, false);
    final NetemNemesis nemesis =
        new NetemNemesis(shell, "eth0", Duration.ofMillis(100), Duration.ofMillis(50), 5);

    assertThat(nemesis.start()).isEqualTo("netem delay 100ms 50ms loss 5% on brokers [1, 2, 3]");
    assertThat(shell.commands)
        .contains("2: tc qdisc replace dev eth0 root netem delay 100ms 50ms loss 5%")
        .hasSize(3);
    shell.commands.clear();

    nemesis.heal();
    assertThat(shell.commands).contains("3: tc qdisc del dev eth0 root").hasSize(3);
  }

  @Test
  void withoutNetemInTheKernelPacketsAreDroppedByIptablesAndDelayedInUserSpace() throws Exception {
    final RecordingShell shell = new RecordingShell(3, true);
    final NetemNemesis nemesis =
        new NetemNemesis(shell, "eth0", Duration.ofMillis(100), Duration.ofMillis(50), 5);

    assertThat(nemesis.start())
        .startsWith("lossy, slow network on brokers [1, 2, 3]: delay 100ms 50ms loss 5%")
        .contains("no sch_netem");
    final String drop =
        "iptables -w -A OUTPUT -o eth0 -m statistic --mode random --probability 0.05 -j DROP";
    final String queue = "iptables -w -A OUTPUT -o eth0 -j NFQUEUE --queue-num 7 --queue-bypass";
    assertThat(shell.commands.stream().filter(c -> c.startsWith("2: ")))
        .satisfiesExactly(
            netem -> assertThat(netem).contains(" netem "),
            write ->
                assertThat(write)
                    .startsWith(
                        "2: write /tmp/skiff-packet-delay/io/skiff/chaos/PacketDelay.class"),
            launch ->
                assertThat(launch)
                    .contains("java ")
                    .contains("io.skiff.chaos.PacketDelay 7 100 50")
                    .contains("grep -q ready"),
            rule -> assertThat(rule).isEqualTo("2: " + drop),
            rule -> assertThat(rule).isEqualTo("2: " + queue));
    shell.commands.clear();

    nemesis.heal();
    assertThat(shell.commands)
        .containsExactly(
            "1: " + queue.replace(" -A ", " -D "),
            "1: " + drop.replace(" -A ", " -D "),
            "2: " + queue.replace(" -A ", " -D "),
            "2: " + drop.replace(" -A ", " -D "),
            "3: " + queue.replace(" -A ", " -D "),
            "3: " + drop.replace(" -A ", " -D "),
            "1: pkill -f io.skiff.chaos.PacketDelay",
            "2: pkill -f io.skiff.chaos.PacketDelay",
            "3: pkill -f io.skiff.chaos.PacketDelay");
  }
}
