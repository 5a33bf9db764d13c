package io.skiff.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One broker's memory report, as {@code GET /v1/memory} returns it:
 *
 * <pre>
 * {
 *   "node_id": 1, "tier": "small",
 *   "pressure": {"level": "NORMAL", "heap_used_after_gc": 1, "heap_max": 4, ...},
 *   "page_cache_hit_ratio": 0.98,            (-1 while nothing was served)
 *   "categories": [{"name": "heap", "unit": "bytes", "used_bytes": 1, "budget_bytes": 2}, ...],
 *                                            (budget_bytes -1: no budget of its own)
 *   "leak_warnings": ["..."], "advice": ["..."]
 * }
 * </pre>
 *
 * Immutable.
 */
record MemoryReport(
    int nodeId,
    String tier,
    String pressure,
    double heapAfterGcRatio,
    double pageCacheHitRatio,
    List<Category> categories,
    List<String> leakWarnings,
    List<String> advice) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A memory-profile category: what it uses, against which budget (-1: none of its own), in bytes
   * or as a count (partitions, connections).
   */
  record Category(String name, boolean isCount, long usedBytes, long budgetBytes) {
    String format(long value) {
      return isCount ? Long.toString(value) : bytes(value);
    }
  }

  static MemoryReport parse(String body) {
    final JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the broker's answer is not JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.has("node_id") || !root.has("categories")) {
      throw new IllegalArgumentException("the broker's answer is not a memory report: " + body);
    }
    final List<Category> categories = new ArrayList<>();
    for (JsonNode c : root.path("categories")) {
      categories.add(
          new Category(
              c.path("name").asText(),
              "count".equals(c.path("unit").asText()),
              c.path("used_bytes").asLong(-1),
              c.path("budget_bytes").asLong(-1)));
    }
    return new MemoryReport(
        root.path("node_id").asInt(),
        root.path("tier").asText("?"),
        root.path("pressure").path("level").asText("?"),
        ratio(
            root.path("pressure").path("heap_used_after_gc").asLong(-1),
            root.path("pressure").path("heap_max").asLong(-1)),
        root.path("page_cache_hit_ratio").asDouble(-1),
        categories,
        strings(root.path("leak_warnings")),
        strings(root.path("advice")));
  }

  private static double ratio(long used, long max) {
    return used < 0 || max <= 0 ? -1 : (double) used / max;
  }

  private static List<String> strings(JsonNode array) {
    final List<String> values = new ArrayList<>();
    array.forEach(v -> values.add(v.asText()));
    return values;
  }

  void render(PrintWriter out) {
    out.printf(
        Locale.ROOT,
        "broker %d  tier %s  pressure %s (heap after GC %s)  page cache hit ratio %s%n",
        nodeId,
        tier,
        pressure,
        percent(heapAfterGcRatio),
        percent(pageCacheHitRatio));
    out.printf(Locale.ROOT, "  %-28s %12s %12s %7s%n", "category", "used", "budget", "used %");
    for (Category c : categories) {
      out.printf(
          Locale.ROOT,
          "  %-28s %12s %12s %7s%n",
          c.name(),
          c.usedBytes() < 0 ? "?" : c.format(c.usedBytes()),
          c.budgetBytes() < 0 ? "-" : c.format(c.budgetBytes()),
          c.budgetBytes() <= 0 || c.usedBytes() < 0
              ? "-"
              : percent((double) c.usedBytes() / c.budgetBytes()));
    }
    out.println(leakWarnings.isEmpty() ? "  leak warnings: none" : "  leak warnings:");
    leakWarnings.forEach(w -> out.println("    - " + w));
    out.println(advice.isEmpty() ? "  advice: none" : "  advice:");
    advice.forEach(a -> out.println("    - " + a));
  }

  static String bytes(long n) {
    if (n < 0) {
      return "?";
    }
    if (n < 1024) {
      return n + " B";
    }
    final String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int unit = -1;
    while (v >= 1024 && unit < units.length - 1) {
      v /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[unit]);
  }

  static String percent(double ratio) {
    return ratio < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f %%", ratio * 100);
  }
}
