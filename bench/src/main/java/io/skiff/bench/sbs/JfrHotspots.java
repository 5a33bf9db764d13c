package io.skiff.bench.sbs;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * The hottest frames of a JFR recording taken with profile settings: CPU by {@code
 * jdk.ExecutionSample} (one sample per running Java thread every 10 ms) and heap allocation by
 * {@code jdk.ObjectAllocationSample}'s weight (bytes the sample stands for). For each it lists the
 * top frame (where the time or bytes are spent) and the first frame in Skiff, Ratis or Kafka code
 * below it (who asked for it: JDK and Netty internals are skipped), as shares of the total.
 * Stateless; {@code main} takes recordings as arguments.
 */
final class JfrHotspots {
  private static final String[] OWN_CODE = {
    "io.skiff.", "org.apache.ratis.", "kafka.", "org.apache.kafka."
  };

  private JfrHotspots() {}

  public static void main(String[] args) throws IOException {
    for (String f : args) {
      print(Path.of(f), Instant.MIN, Instant.MAX, 20, System.out);
    }
  }

  /** Prints the hot frames of the samples taken in {@code [begin, end]}. */
  static void print(Path recording, Instant begin, Instant end, int top, PrintStream out)
      throws IOException {
    final Map<String, Double> cpuSelf = new HashMap<>();
    final Map<String, Double> cpuCaller = new HashMap<>();
    final Map<String, Double> allocSelf = new HashMap<>();
    final Map<String, Double> allocCaller = new HashMap<>();
    final Map<String, Double> cpuThreads = new HashMap<>();
    final Map<String, Double> cpuClasses = new HashMap<>();
    for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
      if (e.getStartTime().isBefore(begin) || e.getStartTime().isAfter(end)) {
        continue;
      }
      switch (e.getEventType().getName()) {
        case "jdk.ExecutionSample" -> {
          count(e.getStackTrace(), 1, "", cpuSelf, cpuCaller);
          final RecordedThread t = e.getThread("sampledThread");
          cpuThreads.merge(t == null ? "?" : threadKind(t.getJavaName()), 1.0, Double::sum);
        }
        case "jdk.ObjectAllocationSample" -> {
          final String type = e.getClass("objectClass").getName();
          count(e.getStackTrace(), e.getLong("weight"), type + " in ", allocSelf, allocCaller);
        }
        default -> {}
      }
    }
    out.println("== " + recording.getFileName());
    table(out, "CPU samples, top frame", cpuSelf, top);
    table(out, "CPU samples, first Skiff/Ratis/Kafka frame", cpuCaller, top);
    cpuCaller.forEach((frame, n) -> cpuClasses.merge(className(frame), n, Double::sum));
    table(out, "CPU samples, class of the first Skiff/Ratis/Kafka frame", cpuClasses, top);
    table(out, "CPU samples by thread (numbers and group ids masked)", cpuThreads, top);
    table(out, "allocated bytes, type and allocating frame", allocSelf, top);
    table(out, "allocated bytes, first Skiff/Ratis/Kafka frame", allocCaller, top);
  }

  private static void count(
      RecordedStackTrace stack,
      double weight,
      String prefix,
      Map<String, Double> self,
      Map<String, Double> caller) {
    if (stack == null || stack.getFrames().isEmpty()) {
      return;
    }
    final List<RecordedFrame> frames = stack.getFrames();
    self.merge(prefix + name(frames.get(0)), weight, Double::sum);
    for (RecordedFrame f : frames) {
      final String n = name(f);
      for (String own : OWN_CODE) {
        if (n.startsWith(own)) {
          caller.merge(n, weight, Double::sum);
          return;
        }
      }
    }
    caller.merge("(no Skiff/Ratis/Kafka frame)", weight, Double::sum);
  }

  /** A thread's name with Raft group ids and numbers masked, so threads of one kind add up. */
  static String threadKind(String name) {
    return name == null ? "?" : name.replaceAll("[0-9A-Fa-f]{12,}", "*").replaceAll("\\d+", "#");
  }

  private static String className(String frame) {
    final int dot = frame.lastIndexOf('.');
    return dot < 0 ? frame : frame.substring(0, dot);
  }

  private static String name(RecordedFrame f) {
    return f.getMethod().getType().getName() + "." + f.getMethod().getName();
  }

  private static void table(PrintStream out, String title, Map<String, Double> counts, int top) {
    final double total = counts.values().stream().mapToDouble(Double::doubleValue).sum();
    out.printf(Locale.ROOT, "-- %s (total %.0f)%n", title, total);
    final List<Map.Entry<String, Double>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(Map.Entry.<String, Double>comparingByValue().reversed());
    for (Map.Entry<String, Double> e : sorted.subList(0, Math.min(top, sorted.size()))) {
      out.printf(Locale.ROOT, "%6.1f%%  %s%n", 100 * e.getValue() / total, e.getKey());
    }
  }
}
