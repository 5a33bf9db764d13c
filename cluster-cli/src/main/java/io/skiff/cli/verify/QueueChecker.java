package io.skiff.cli.verify;

import io.skiff.cli.verify.Op.Fn;
import io.skiff.cli.verify.Op.Read;
import io.skiff.cli.verify.Op.Type;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a queue history the way Jepsen's Kafka workload does. From acknowledged sends and from
 * every read it builds, per partition, which values sit at which offsets; then it looks for each
 * {@link Anomaly}. Sends that completed INFO (timed out, connection lost) may or may not have
 * happened: their values may appear or not. Acknowledged values that no read reached are "unseen",
 * which is allowed; they become lost writes once any read reaches their offset.
 *
 * <p>Stateless; {@link #check} may run on any thread.
 */
public final class QueueChecker {
  /** How many examples a verdict keeps per anomaly class. */
  static final int EXAMPLES = 5;

  private QueueChecker() {}

  /** Checks {@code history}, in recording order. */
  public static Verdict check(List<Op> history) {
    return new Run(history).verdict();
  }

  /** The state of one check. */
  private static final class Run {
    private final List<Op> history;
    private final Map<Anomaly, Integer> counts = new EnumMap<>(Anomaly.class);
    private final Map<Anomaly, List<String>> examples = new EnumMap<>(Anomaly.class);
    private final Map<Op.Type, Integer> sends = new EnumMap<>(Op.Type.class);

    /** partition → offset → values seen there. */
    private final Map<String, TreeMap<Long, Set<Long>>> byOffset = new HashMap<>();

    /** value → the places ("partition@offset") it was seen. */
    private final Map<Long, Set<String>> placesOf = new HashMap<>();

    private final Set<Long> attempted = new HashSet<>();
    private final Set<Long> indeterminate = new HashSet<>();
    private final Set<Long> read = new HashSet<>();
    private final Map<String, Long> maxRead = new HashMap<>();
    private long reads;

    Run(List<Op> history) {
      this.history = history;
      for (Anomaly a : Anomaly.values()) {
        counts.put(a, 0);
      }
    }

    Verdict verdict() {
      indexValues();
      findInconsistentOffsets();
      findDuplicates();
      final int unseen = findLostWrites();
      findNonmonotonicSends();
      findPollOrderAnomalies();
      findCommitRegressions();
      final int indeterminateRead = (int) indeterminate.stream().filter(read::contains).count();
      final boolean valid =
          counts.values().stream().allMatch(n -> n == 0)
              && sends.getOrDefault(Type.OK, 0) > 0
              && reads > 0;
      final Availability availability = new Availability(history);
      return new Verdict(
          valid,
          counts,
          examples,
          sends,
          reads,
          unseen,
          indeterminateRead,
          availability.windows(),
          availability.longestWriteOutageMs());
    }

    private void indexValues() {
      for (Op op : history) {
        if (op.f() == Fn.SEND && op.type() == Type.INVOKE) {
          attempted.add(op.value());
        }
      }
      for (Op op : history) {
        if (op.f() == Fn.SEND && op.completes()) {
          sends.merge(op.type(), 1, Integer::sum);
          if (op.type() == Type.OK) {
            place(op.partition(), op.offset(), op.value());
          } else if (op.type() == Type.INFO) {
            indeterminate.add(op.value());
          }
        } else if (op.f() == Fn.POLL && op.type() == Type.OK) {
          for (Read r : op.reads()) {
            reads++;
            read.add(r.value());
            maxRead.merge(r.partition(), r.offset(), Math::max);
            place(r.partition(), r.offset(), r.value());
            if (!attempted.contains(r.value())) {
              report(
                  Anomaly.UNEXPECTED_VALUE, r.partition() + "@" + r.offset() + " = " + r.value());
            }
          }
        }
      }
    }

    private void place(String partition, long offset, long value) {
      byOffset
          .computeIfAbsent(partition, p -> new TreeMap<>())
          .computeIfAbsent(offset, o -> new HashSet<>())
          .add(value);
      placesOf.computeIfAbsent(value, v -> new HashSet<>()).add(partition + "@" + offset);
    }

    private void findInconsistentOffsets() {
      byOffset.forEach(
          (partition, offsets) ->
              offsets.forEach(
                  (offset, values) -> {
                    if (values.size() > 1) {
                      report(
                          Anomaly.INCONSISTENT_OFFSET,
                          partition + "@" + offset + " holds " + values);
                    }
                  }));
    }

    private void findDuplicates() {
      placesOf.forEach(
          (value, places) -> {
            if (places.size() > 1) {
              report(Anomaly.DUPLICATE, value + " at " + places);
            }
          });
    }

    /** Reports lost writes; returns how many acknowledged values were unseen. */
    private int findLostWrites() {
      int unseen = 0;
      for (Op op : history) {
        if (op.f() != Fn.SEND || op.type() != Type.OK || read.contains(op.value())) {
          continue;
        }
        if (maxRead.getOrDefault(op.partition(), -1L) >= op.offset()) {
          report(
              Anomaly.LOST_WRITE,
              op.value() + " acknowledged at " + op.partition() + "@" + op.offset());
        } else {
          unseen++;
        }
      }
      return unseen;
    }

    private void findNonmonotonicSends() {
      final Map<Integer, Map<String, Long>> last = new HashMap<>();
      for (Op op : history) {
        if (op.f() == Fn.SEND && op.type() == Type.OK) {
          final Map<String, Long> mine = last.computeIfAbsent(op.process(), p -> new HashMap<>());
          final Long before = mine.put(op.partition(), op.offset());
          if (before != null && op.offset() <= before) {
            report(
                Anomaly.NONMONOTONIC_SEND,
                "process "
                    + op.process()
                    + " got "
                    + op.partition()
                    + "@"
                    + op.offset()
                    + " after @"
                    + before);
          }
        }
      }
    }

    /** Nonmonotonic polls and poll skips: consecutive reads of one consumer, one assignment. */
    private void findPollOrderAnomalies() {
      final Map<Integer, Map<String, Long>> last = new HashMap<>();
      for (Op op : history) {
        if (op.f() == Fn.ASSIGN && op.completes()) {
          last.remove(op.process()); // positions may move on (re)assignment
        } else if (op.f() == Fn.POLL && op.type() == Type.OK) {
          final Map<String, Long> mine = last.computeIfAbsent(op.process(), p -> new HashMap<>());
          for (Read r : op.reads()) {
            final Long before = mine.put(r.partition(), r.offset());
            if (before == null) {
              continue;
            }
            final String where = "process " + op.process() + " read " + r.partition() + "@";
            if (r.offset() <= before) {
              report(Anomaly.NONMONOTONIC_POLL, where + r.offset() + " after @" + before);
            } else {
              final TreeMap<Long, Set<Long>> known = byOffset.get(r.partition());
              final var skipped = known.subMap(before, false, r.offset(), false).keySet();
              if (!skipped.isEmpty()) {
                report(
                    Anomaly.POLL_SKIP,
                    where + r.offset() + " after @" + before + ", skipping " + skipped);
              }
            }
          }
        }
      }
    }

    /**
     * A commit that began after another commit completed must not commit less for a partition: the
     * coordinator serialises a group's commits and fences members of older generations.
     */
    private void findCommitRegressions() {
      final Map<String, Long> completed = new HashMap<>();
      final Map<Integer, Map<String, Long>> floorAtInvoke = new HashMap<>();
      for (Op op : history) {
        if (op.f() != Fn.COMMIT) {
          continue;
        }
        if (op.type() == Type.INVOKE) {
          floorAtInvoke.put(op.process(), new HashMap<>(completed));
        } else if (op.type() == Type.OK) {
          final Map<String, Long> floor = floorAtInvoke.getOrDefault(op.process(), Map.of());
          op.offsets()
              .forEach(
                  (partition, offset) -> {
                    final Long before = floor.get(partition);
                    if (before != null && offset < before) {
                      report(
                          Anomaly.COMMIT_REGRESSION,
                          "process "
                              + op.process()
                              + " committed "
                              + partition
                              + "@"
                              + offset
                              + " after @"
                              + before
                              + " was committed");
                    }
                    completed.merge(partition, offset, Math::max);
                  });
        }
      }
    }

    private void report(Anomaly anomaly, String example) {
      counts.merge(anomaly, 1, Integer::sum);
      final List<String> some = examples.computeIfAbsent(anomaly, a -> new ArrayList<>());
      if (some.size() < EXAMPLES) {
        some.add(example);
      }
    }
  }
}
