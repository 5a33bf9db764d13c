package io.skiff.cli.verify;

import io.skiff.cli.verify.Op.Fn;
import io.skiff.cli.verify.Op.Type;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Availability of a history: for each fault window (a nemesis invocation to its heal), the fraction
 * of sends and polls invoked in it that succeeded and the longest time in it with no send
 * acknowledged; and the longest such write outage over the whole run.
 *
 * <p>Immutable once built; computed in the constructor.
 */
final class Availability {
  private static final double NANOS_PER_MS = 1e6;

  private final List<Verdict.FaultWindow> windows = new ArrayList<>();
  private final double longestWriteOutageMs;

  Availability(List<Op> history) {
    final List<Long> acked = new ArrayList<>();
    final Map<Integer, Op> pending = new HashMap<>();
    final List<Op[]> operations = new ArrayList<>(); // {invoke, completion or null}
    for (Op op : history) {
      if (op.f() == Fn.SEND && op.type() == Type.OK) {
        acked.add(op.timeNanos());
      }
      if (op.f() == Fn.SEND || op.f() == Fn.POLL) {
        if (op.type() == Type.INVOKE) {
          pending.put(op.process(), op);
        } else {
          final Op invoke = pending.remove(op.process());
          if (invoke != null) {
            operations.add(new Op[] {invoke, op});
          }
        }
      }
    }
    pending.values().forEach(invoke -> operations.add(new Op[] {invoke, null}));
    final long end = history.isEmpty() ? 0 : history.get(history.size() - 1).timeNanos();
    // The writers' span: the final drain after the last send is no outage.
    final long firstSend =
        operations.stream()
            .filter(o -> o[0].f() == Fn.SEND)
            .mapToLong(o -> o[0].timeNanos())
            .min()
            .orElse(0);
    final long lastSend =
        operations.stream()
            .filter(o -> o[0].f() == Fn.SEND && o[1] != null)
            .mapToLong(o -> o[1].timeNanos())
            .max()
            .orElse(firstSend);
    longestWriteOutageMs = longestGap(acked, firstSend, lastSend) / NANOS_PER_MS;
    Op fault = null;
    for (Op op : history) {
      if (op.f() == Fn.NEMESIS && op.type() == Type.INVOKE) {
        fault = op;
      } else if (op.f() == Fn.NEMESIS && fault != null) {
        windows.add(window(fault, op.timeNanos(), operations, acked));
        fault = null;
      }
    }
    if (fault != null) {
      windows.add(window(fault, end, operations, acked));
    }
  }

  private static Verdict.FaultWindow window(
      Op fault, long endNanos, List<Op[]> operations, List<Long> acked) {
    final long from = fault.timeNanos();
    int invoked = 0;
    int succeeded = 0;
    for (Op[] op : operations) {
      final long at = op[0].timeNanos();
      if (at >= from && at < endNanos) {
        invoked++;
        if (op[1] != null && op[1].type() == Type.OK) {
          succeeded++;
        }
      }
    }
    return new Verdict.FaultWindow(
        fault.detail(),
        from / NANOS_PER_MS,
        endNanos / NANOS_PER_MS,
        invoked,
        succeeded,
        longestGap(acked, from, endNanos) / NANOS_PER_MS);
  }

  /** Longest interval within [from, to] containing no time of {@code sorted}. */
  static long longestGap(List<Long> sorted, long from, long to) {
    long longest = 0;
    long previous = from;
    for (long t : sorted) {
      if (t < from) {
        continue;
      }
      if (t > to) {
        break;
      }
      longest = Math.max(longest, t - previous);
      previous = t;
    }
    return Math.max(longest, to - previous);
  }

  List<Verdict.FaultWindow> windows() {
    return List.copyOf(windows);
  }

  double longestWriteOutageMs() {
    return longestWriteOutageMs;
  }
}
