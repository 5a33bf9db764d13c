package io.skiff.broker.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Advice for an operator from one memory report: a category at {@value #THRESHOLD_PERCENT} % or
 * more of its budget names the next tier up (or more brokers, on the largest tier) and the
 * category's own remedy; a pressure level above NORMAL says how full the heap is after GC; each
 * leak warning asks for a heap dump. Stateless.
 */
final class TierAdvice {
  static final int THRESHOLD_PERCENT = 85;

  private TierAdvice() {}

  /** One category's reading, with its budget, for the advice. */
  record Reading(MemoryCategory category, long used, long budget) {
    int percent() {
      return (int) Math.min(999, used * 100 / budget);
    }
  }

  static List<String> advise(
      Tier tier,
      List<Reading> readings,
      MemoryPressure.Level level,
      double heapAfterGcRatio,
      List<MemoryLeakDetector.LeakWarning> leaks) {
    final List<String> advice = new ArrayList<>();
    final String bigger = biggerTier(tier);
    for (Reading r : readings) {
      if (r.category().remedy() != null
          && r.budget() > 0
          && r.used() >= 0
          && r.percent() >= THRESHOLD_PERCENT) {
        advice.add(
            String.format(
                Locale.ROOT,
                "%s budget %d %% used: %s or %s",
                r.category().name(),
                r.percent(),
                bigger,
                r.category().remedy()));
      }
    }
    if (level != MemoryPressure.Level.NORMAL) {
      advice.add(
          String.format(
              Locale.ROOT,
              "memory pressure %s (heap %.0f %% full after GC): producers are throttled; %s or"
                  + " move partitions to other brokers",
              level,
              heapAfterGcRatio * 100,
              bigger));
    }
    for (MemoryLeakDetector.LeakWarning leak : leaks) {
      advice.add(
          leak.describe()
              + ": if the load did not grow, take a heap dump (jcmd <pid> GC.heap_dump) and"
              + " report it");
    }
    return advice;
  }

  private static String biggerTier(Tier tier) {
    final int next = Tier.ALL.indexOf(tier) + 1;
    return next > 0 && next < Tier.ALL.size()
        ? "raise to the " + Tier.ALL.get(next).name() + " tier"
        : "add brokers";
  }
}
