package io.skiff.chaos;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Network partitions between brokers with {@code iptables} inside their containers: a broker drops
 * the packets from (and, for a two-way cut, to) the brokers it is cut from ({@code DROP}, so
 * connections hang as on a cut cable rather than failing fast). Clients still reach every broker:
 * an isolated leader keeps answering them and must not acknowledge a write it cannot replicate.
 *
 * <ul>
 *   <li>{@link #isolateLeader}: the leader (of the locator's partition) alone on one side;
 *   <li>{@link #majorityMinority}: a random minority ({@code (n - 1) / 2} brokers) on one side;
 *   <li>{@link #bridge}: two halves that cannot talk to each other, and one broker, the bridge,
 *       that talks to both (Jepsen's bridge: with 5 brokers each half plus the bridge is a
 *       majority, so two majorities overlap in one broker);
 *   <li>{@link #oneWayFromLeader} and {@link #oneWayToLeader}: packets in one direction only are
 *       lost, {@code INPUT -s <sender> -j DROP} on the receivers (a broker that hears but is not
 *       heard, or is heard but hears nothing).
 * </ul>
 *
 * <p>{@link #heal} deletes exactly the rules it added (a broker restarted meanwhile has lost them
 * already), so it leaves other nemeses' rules alone. Driven by one thread at a time.
 */
public final class PartitionNemesis implements Nemesis {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionNemesis.class);

  /** Who drops whom: broker id to the peers whose packets it drops, and a description. */
  private record Cut(Map<Integer, Set<Integer>> drops, boolean twoWay, String description) {}

  /** Chooses the cut for the brokers {@code ids} when the fault starts. */
  @FunctionalInterface
  private interface Plan {
    Cut choose(List<Integer> ids);
  }

  private final BrokerShell shell;
  private final Plan plan;

  /** Rules added per broker, as {@code iptables} arguments after {@code -A}/{@code -D}. */
  private final Map<Integer, List<String>> added = new LinkedHashMap<>();

  private PartitionNemesis(BrokerShell shell, Plan plan) {
    this.shell = shell;
    this.plan = plan;
  }

  /** Cuts the leader (from {@code leader}, e.g. a {@link LeaderLocator}) off the other brokers. */
  public static PartitionNemesis isolateLeader(BrokerShell shell, IntSupplier leader) {
    return new PartitionNemesis(
        shell, ids -> halves("isolated leader", ids, Set.of(leader.getAsInt())));
  }

  /** Cuts a random minority of the brokers off the majority. */
  public static PartitionNemesis majorityMinority(BrokerShell shell, long seed) {
    final Random random = new Random(seed);
    return new PartitionNemesis(
        shell,
        ids -> {
          final List<Integer> shuffled = shuffled(ids, random);
          return halves("minority", ids, new HashSet<>(shuffled.subList(0, (ids.size() - 1) / 2)));
        });
  }

  /**
   * Splits the brokers other than a random bridge into two halves that cannot talk to each other;
   * the bridge talks to both.
   */
  public static PartitionNemesis bridge(BrokerShell shell, long seed) {
    final Random random = new Random(seed);
    return new PartitionNemesis(
        shell,
        ids -> {
          final List<Integer> shuffled = shuffled(ids, random);
          final int bridge = shuffled.remove(0);
          final Set<Integer> left = new HashSet<>(shuffled.subList(0, shuffled.size() / 2));
          final List<Integer> right = shuffled.stream().filter(id -> !left.contains(id)).toList();
          final Map<Integer, Set<Integer>> drops = new TreeMap<>();
          left.forEach(id -> drops.put(id, Set.copyOf(right)));
          right.forEach(id -> drops.put(id, Set.copyOf(left)));
          return new Cut(
              drops,
              true,
              "bridge "
                  + sorted(left)
                  + " <- "
                  + bridge
                  + " -> "
                  + sorted(right)
                  + " (iptables DROP)");
        });
  }

  /** The other brokers drop what the leader sends them; the leader still hears them. */
  public static PartitionNemesis oneWayFromLeader(BrokerShell shell, IntSupplier leader) {
    return new PartitionNemesis(
        shell,
        ids -> {
          final int from = leader.getAsInt();
          final Map<Integer, Set<Integer>> drops = new TreeMap<>();
          ids.stream().filter(id -> id != from).forEach(id -> drops.put(id, Set.of(from)));
          return new Cut(
              drops, false, "one-way: " + from + " -> " + sorted(drops.keySet()) + " dropped");
        });
  }

  /** The leader drops what the other brokers send it; they still hear the leader. */
  public static PartitionNemesis oneWayToLeader(BrokerShell shell, IntSupplier leader) {
    return new PartitionNemesis(
        shell,
        ids -> {
          final int to = leader.getAsInt();
          final Set<Integer> others =
              ids.stream().filter(id -> id != to).collect(Collectors.toSet());
          return new Cut(
              Map.of(to, others), false, "one-way: " + sorted(others) + " -> " + to + " dropped");
        });
  }

  private static Cut halves(String kind, List<Integer> ids, Set<Integer> side) {
    final Set<Integer> rest =
        ids.stream().filter(id -> !side.contains(id)).collect(Collectors.toSet());
    final Map<Integer, Set<Integer>> drops = new TreeMap<>();
    for (int id : ids) {
      drops.put(id, side.contains(id) ? rest : side);
    }
    return new Cut(
        drops, true, kind + " " + sorted(side) + " | " + sorted(rest) + " (iptables DROP)");
  }

  @Override
  public String start() throws Exception {
    final Cut cut = plan.choose(shell.ids());
    for (Map.Entry<Integer, Set<Integer>> e : cut.drops().entrySet()) {
      final List<String> rules = new ArrayList<>();
      for (int other : sorted(e.getValue())) {
        final String ip = shell.address(other);
        rules.add("INPUT -s " + ip + " -j DROP");
        if (cut.twoWay()) {
          rules.add("OUTPUT -d " + ip + " -j DROP");
        }
      }
      added.put(e.getKey(), rules);
      shell.exec(e.getKey(), "bash", "-c", script("-A", rules, " && "));
    }
    return "partition: " + cut.description();
  }

  @Override
  public String heal() throws Exception {
    if (added.isEmpty()) {
      return "no partition";
    }
    for (Map.Entry<Integer, List<String>> e : added.entrySet()) {
      try {
        shell.exec(e.getKey(), "bash", "-c", script("-D", e.getValue(), "; ") + "; true");
      } catch (Exception ex) { // a broker killed meanwhile has no rules left to delete
        LOG.warn("cannot delete partition rules on broker {}: {}", e.getKey(), ex.getMessage());
      }
    }
    final String healed = "healed partition of brokers " + sorted(added.keySet());
    added.clear();
    return healed;
  }

  private static String script(String op, List<String> rules, String separator) {
    return rules.stream()
        .map(r -> "iptables -w " + op + " " + r)
        .collect(Collectors.joining(separator));
  }

  private static List<Integer> shuffled(List<Integer> ids, Random random) {
    final List<Integer> shuffled = new ArrayList<>(ids);
    Collections.shuffle(shuffled, random);
    return shuffled;
  }

  private static List<Integer> sorted(Collection<Integer> ids) {
    return ids.stream().sorted().toList();
  }
}
