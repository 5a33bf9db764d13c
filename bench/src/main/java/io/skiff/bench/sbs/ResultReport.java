package io.skiff.bench.sbs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reduces the results of all runs to one row per workload and metric: for each system the median
 * over runs with min–max, and the Skiff ÷ Kafka ratio of the medians; prints it as a Markdown table
 * and writes everything (options, per-run results, the summary, machine load) as JSON. Stateless.
 */
final class ResultReport {
  private ResultReport() {}

  /** One table row's statistics of one system: median, min, max over runs. */
  record Stat(double median, double min, double max, int runs) {
    static Stat of(List<Double> values) {
      final List<Double> v = new ArrayList<>(values);
      v.sort(null);
      final int n = v.size();
      final double median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
      return new Stat(median, v.get(0), v.get(n - 1), n);
    }
  }

  /** workload → metric → system → stat, in the order the results came. */
  static Map<String, Map<String, Map<String, Stat>>> summarise(List<WorkloadResult> results) {
    final Map<String, Map<String, Map<String, List<Double>>>> values = new LinkedHashMap<>();
    for (WorkloadResult r : results) {
      final Map<String, Map<String, List<Double>>> byMetric =
          values.computeIfAbsent(r.workload(), k -> new LinkedHashMap<>());
      r.metrics()
          .forEach(
              (metric, value) ->
                  byMetric
                      .computeIfAbsent(metric, k -> new LinkedHashMap<>())
                      .computeIfAbsent(r.system(), k -> new ArrayList<>())
                      .add(value));
    }
    final Map<String, Map<String, Map<String, Stat>>> summary = new LinkedHashMap<>();
    values.forEach(
        (workload, byMetric) -> {
          final Map<String, Map<String, Stat>> m = new LinkedHashMap<>();
          byMetric.forEach(
              (metric, bySystem) -> {
                final Map<String, Stat> s = new LinkedHashMap<>();
                bySystem.forEach((system, v) -> s.put(system, Stat.of(v)));
                m.put(metric, s);
              });
          summary.put(workload, m);
        });
    return summary;
  }

  static String table(Map<String, Map<String, Map<String, Stat>>> summary) {
    final StringBuilder b = new StringBuilder();
    b.append(
        "| workload | metric | Skiff median (min–max) | Kafka median (min–max) | Skiff ÷ Kafka |\n");
    b.append("|---|---|---|---|---|\n");
    summary.forEach(
        (workload, byMetric) ->
            byMetric.forEach(
                (metric, bySystem) -> {
                  final Stat skiff = bySystem.get("skiff");
                  final Stat kafka = bySystem.get("kafka");
                  b.append("| ").append(workload).append(" | ").append(metric).append(" | ");
                  b.append(cell(skiff)).append(" | ").append(cell(kafka)).append(" | ");
                  b.append(
                      skiff != null && kafka != null && kafka.median() != 0
                          ? String.format(Locale.ROOT, "%.2f", skiff.median() / kafka.median())
                          : "");
                  b.append(" |\n");
                }));
    return b.toString();
  }

  private static String cell(Stat s) {
    if (s == null) {
      return "n/a";
    }
    if (s.runs() == 1) {
      return number(s.median());
    }
    return number(s.median()) + " (" + number(s.min()) + "–" + number(s.max()) + ")";
  }

  static String number(double v) {
    final double a = Math.abs(v);
    final String format = a >= 100 || a == 0 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
    return String.format(Locale.ROOT, format, v);
  }

  static void writeJson(
      Path file,
      Options options,
      List<Map<String, Object>> runs,
      List<WorkloadResult> results,
      Map<String, Map<String, Map<String, Stat>>> summary)
      throws IOException {
    final Map<String, Object> root = new LinkedHashMap<>();
    final Map<String, Object> opts = new LinkedHashMap<>();
    opts.put("runs", options.runs());
    opts.put("duration_s", options.durationSeconds());
    opts.put("warmup_s", options.warmupSeconds());
    opts.put("partitions", options.partitions());
    opts.put("record_size", options.recordSize());
    opts.put("heap", options.heap());
    opts.put("systems", options.systems());
    opts.put("workloads", options.workloads().stream().map(Workload::label).toList());
    opts.put("producer_config", options.producerConfig());
    root.put("options", opts);
    root.put("cpus", Runtime.getRuntime().availableProcessors());
    root.put("cluster_runs", runs);
    final List<Map<String, Object>> rows = new ArrayList<>();
    for (WorkloadResult r : results) {
      final Map<String, Object> row = new LinkedHashMap<>();
      row.put("system", r.system());
      row.put("run", r.run());
      row.put("workload", r.workload());
      row.put("metrics", r.metrics());
      if (r.mbPerSecond() != null) {
        row.put("mb_per_second", r.mbPerSecond());
      }
      rows.add(row);
    }
    root.put("results", rows);
    root.put("summary", summary);
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
  }
}
