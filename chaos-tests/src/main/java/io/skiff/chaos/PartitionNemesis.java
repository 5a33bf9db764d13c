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
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Network partitions between brokers with {@code iptables} inside their containers: every broker
 * drops the packets from and to the brokers on the other side ({@code DROP}, so connections hang as
 * on a cut cable rather than failing fast). Clients still reach every broker: an isolated leader
 * keeps answering them and must not acknowledge a write it cannot replicate.
 *
 * <ul>
 *   <li>{@link #isolateLeader}: the leader (of the locator's partition) alone on one side;
 *   <li>{@link #majorityMinority}: a random minority ({@code (n - 1) / 2} brokers) on one side.
 * </ul>
 *
 * <p>{@link #heal} deletes exactly the rules it added (a broker restarted meanwhile has lost them
 * already), so it leaves other nemeses' rules alone. Driven by one thread at a time.
 */
public final class PartitionNemesis implements Nemesis {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionNemesis.class);

  private final BrokerShell shell;
  private final String kind;
  private final Function<List<Integer>, Set<Integer>> chooseSide;

  /** Rules added per broker, as {@code iptables} arguments after {@code -A}/{@code -D}. */
  private final Map<Integer, List<String>> added = new LinkedHashMap<>();

  private PartitionNemesis(
      BrokerShell shell, String kind, Function<List<Integer>, Set<Integer>> chooseSide) {
    this.shell = shell;
    this.kind = kind;
    this.chooseSide = chooseSide;
  }

  /** Cuts the leader (from {@code leader}, e.g. a {@link LeaderLocator}) off the other brokers. */
  public static PartitionNemesis isolateLeader(BrokerShell shell, IntSupplier leader) {
    return new PartitionNemesis(shell, "isolated leader", ids -> Set.of(leader.getAsInt()));
  }

  /** Cuts a random minority of the brokers off the majority. */
  public static PartitionNemesis majorityMinority(BrokerShell shell, long seed) {
    final Random random = new Random(seed);
    return new PartitionNemesis(
        shell,
        "minority",
        ids -> {
          final List<Integer> shuffled = new ArrayList<>(ids);
          Collections.shuffle(shuffled, random);
          return new HashSet<>(shuffled.subList(0, (ids.size() - 1) / 2));
        });
  }

  @Override
  public String start() throws Exception {
    final List<Integer> ids = shell.ids();
    final Set<Integer> side = chooseSide.apply(ids);
    final List<Integer> rest = ids.stream().filter(id -> !side.contains(id)).toList();
    for (int id : ids) {
      final List<Integer> across = side.contains(id) ? rest : List.copyOf(side);
      final List<String> rules = new ArrayList<>();
      for (int other : across) {
        final String ip = shell.address(other);
        rules.add("INPUT -s " + ip + " -j DROP");
        rules.add("OUTPUT -d " + ip + " -j DROP");
      }
      added.put(id, rules);
      shell.exec(id, "bash", "-c", script("-A", rules, " && "));
    }
    return "partition: " + kind + " " + sorted(side) + " | " + sorted(rest) + " (iptables DROP)";
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

  private static List<Integer> sorted(Collection<Integer> ids) {
    return ids.stream().sorted().toList();
  }
}
