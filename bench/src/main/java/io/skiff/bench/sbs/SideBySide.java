package io.skiff.bench.sbs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Skiff and Apache Kafka 4.4.0 side by side on this machine: for each run, a fresh three-broker
 * Skiff cluster ({@link SkiffCluster}) and then a fresh three-node Kafka cluster ({@link
 * KafkaPeerCluster}), each put through the same workloads ({@link Workload}) by the same
 * kafka-clients producer and consumers in this JVM ({@link ClusterRun}); then one Markdown table of
 * medians with a Skiff ÷ Kafka column on stdout, and {@code sbs-<time>.json} and {@code
 * sbs-<time>.png} in the output directory. Progress goes to stderr. Usage: {@link Options#USAGE};
 * {@code bench/side-by-side} builds and runs it. Single-threaded apart from the samplers.
 */
public final class SideBySide {
  /** ERROR lines of a run's broker logs printed before the cluster, and its logs, are gone. */
  private static final int MAX_ERRORS_SHOWN = 5;

  private static volatile BenchCluster current;

  private SideBySide() {}

  public static void main(String[] args) throws Exception {
    final Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    if (options.workloads().contains(Workload.CONSUME)
        && options.workloads().indexOf(Workload.RF1_MAX) < 0) {
      System.err.println("consume reads what rf1-max wrote: list rf1-max before it");
      System.exit(2);
    }
    Files.createDirectories(options.out());
    Runtime.getRuntime().addShutdownHook(new Thread(SideBySide::stopCurrent, "sbs-shutdown"));
    final List<WorkloadResult> results = new ArrayList<>();
    final List<Map<String, Object>> runs = new ArrayList<>();
    for (int run = 1; run <= options.runs(); run++) {
      for (String system : options.systems()) {
        runs.add(runOne(options, system, run, results));
      }
    }
    final var summary = ResultReport.summarise(results);
    final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    final Path json = options.out().resolve("sbs-" + stamp + ".json");
    final Path png = options.out().resolve("sbs-" + stamp + ".png");
    ResultReport.writeJson(json, options, runs, results, summary);
    if (!results.isEmpty()) {
      ResultChart.write(png, results);
    }
    System.out.print(ResultReport.table(summary));
    System.out.println();
    for (Map<String, Object> r : runs) {
      System.out.println(r);
    }
    System.out.println("JSON: " + json + (results.isEmpty() ? "" : "\nchart: " + png));
  }

  private static Map<String, Object> runOne(
      Options options, String system, int run, List<WorkloadResult> results) {
    final Map<String, Object> info = new LinkedHashMap<>();
    info.put("system", system);
    info.put("run", run);
    info.put("loadavg_before", loadAverage());
    System.err.printf(
        "[sbs] %s run %d: starting, load %s%n", system, run, info.get("loadavg_before"));
    try (BenchCluster cluster = start(options, system)) {
      current = cluster;
      results.addAll(new ClusterRun(cluster, options, system, run).runAll());
      final List<String> lines = logLines(cluster.logs());
      final List<String> errors = lines.stream().filter(l -> l.contains(" ERROR ")).toList();
      info.put("broker_log_errors", errors.size());
      info.put("broker_log_warnings", lines.stream().filter(l -> l.contains(" WARN ")).count());
      // The logs go with the cluster: say what the errors were.
      errors.stream()
          .limit(MAX_ERRORS_SHOWN)
          .forEach(l -> System.err.printf("[sbs] %s run %d: broker log: %s%n", system, run, l));
    } catch (Exception e) {
      System.err.printf("[sbs] %s run %d failed: %s%n", system, run, e);
      info.put("failure", e.toString());
    } finally {
      current = null;
    }
    info.put("loadavg_after", loadAverage());
    return info;
  }

  private static BenchCluster start(Options options, String system)
      throws IOException, InterruptedException {
    return system.equals("skiff")
        ? SkiffCluster.start(options.skiffHome(), options.heap())
        : KafkaPeerCluster.start(options.kafkaPeer(), options.heap());
  }

  private static void stopCurrent() {
    final BenchCluster c = current;
    if (c != null) {
      c.close();
    }
  }

  /** Every line of the brokers' logs, read once for the ERROR and WARN counts. */
  private static List<String> logLines(List<Path> logs) throws IOException {
    final List<String> lines = new ArrayList<>();
    for (Path log : logs) {
      if (Files.exists(log)) {
        lines.addAll(Files.readAllLines(log, StandardCharsets.ISO_8859_1));
      }
    }
    return lines;
  }

  /** The 1, 5 and 15 minute load averages, from {@code /proc/loadavg}. */
  private static String loadAverage() {
    try {
      final String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }
}
