package io.skiff.broker.memory;

import io.skiff.broker.admin.JsonString;
import io.skiff.broker.memory.MemoryLeakDetector.LeakWarning;
import io.skiff.broker.memory.MemoryLeakDetector.MemorySnapshot;
import io.skiff.broker.memory.RequestBufferPool.SizeClass;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The JSON body of the admin endpoint {@code GET /v1/memory}: one broker's memory profile now.
 *
 * <pre>
 *   {"tier":"dev",
 *    "limits":{"max_connections":100,"max_partitions":100},
 *    "pressure":{"level":"NORMAL","heap_used_after_gc":…,"heap_max":…,"direct_used":…,"direct_max":…},
 *    "request_pool":{"small":{"capacity":4096,"in_use":0,"in_use_bytes":0,"available":3,
 *                             "allocations":17,"misses":3,"dropped":0},"medium":{…},"large":{…}},
 *    "produce_pool":{"total_bytes":…,"used_bytes":…,"available_bytes":…,"waiting":0,"waits":…,
 *                    "timeouts":…},
 *    "leak":{"threshold_bytes_per_hour":…,"warnings":[{"kind":"HEAP","bytes_per_hour":…,
 *            "normalised_bytes_per_hour":…}],
 *            "latest":{"heap_used_after_gc":…,"direct_used":…,"mapped_used":…,"connections":…,
 *                      "partitions":…,"groups":…}},
 *    "node_id":1,
 *    "page_cache_hit_ratio":0.98,                         (-1 while nothing was served)
 *    "categories":[{"name":"index mmap","unit":"bytes","used_bytes":…,"budget_bytes":…},…],
 *                                                         (budget_bytes -1: none of its own)
 *    "leak_warnings":["HEAP grows …"],
 *    "advice":["index mmap budget 87 % used: raise to the medium tier or lower retention"]}
 * </pre>
 *
 * <p>{@code capacity} is -1 for the large class, whose buffers are powers of two from 1 MiB.
 *
 * <p>Stateless; reads the thread-safe pieces of a {@link MemoryProfile}, so any thread may call it.
 * Category names, leak descriptions and advice are written through {@link #quoted}.
 */
final class MemoryReport {
  private MemoryReport() {}

  static String json(MemoryProfile memory, int nodeId, double pageCacheHitRatio) {
    final StringBuilder out = new StringBuilder(1024).append('{');
    out.append("\"tier\":\"").append(memory.config().tier().name()).append("\",");
    out.append("\"limits\":{")
        .append(field("max_connections", memory.config().maxConnections()))
        .append(',')
        .append(field("max_partitions", memory.config().maxPartitions()))
        .append("},");
    pressure(out, memory.pressure());
    requestPool(out, memory.requestBuffers());
    producePool(out, memory.produceMemory());
    leak(out, memory.leakDetector());
    out.append(",\"node_id\":").append(nodeId);
    out.append(",\"page_cache_hit_ratio\":")
        .append(String.format(Locale.ROOT, "%.4f", pageCacheHitRatio));
    final List<TierAdvice.Reading> readings = categories(out, memory.categories());
    final List<LeakWarning> leaks = memory.leakDetector().warnings();
    out.append(",\"leak_warnings\":");
    strings(out, leaks.stream().map(LeakWarning::describe).toList());
    final MemoryUsageSource.MemoryReading r = memory.pressure().lastReading();
    out.append(",\"advice\":");
    strings(
        out,
        TierAdvice.advise(
            memory.config().tier(),
            readings,
            memory.pressure().level(),
            r.heapMax() > 0 ? (double) r.heapUsedAfterGc() / r.heapMax() : -1,
            leaks));
    return out.append('}').toString();
  }

  private static List<TierAdvice.Reading> categories(
      StringBuilder out, List<MemoryCategory> categories) {
    final List<TierAdvice.Reading> readings = new ArrayList<>();
    out.append(",\"categories\":[");
    for (MemoryCategory c : categories) {
      final TierAdvice.Reading reading =
          new TierAdvice.Reading(c, c.used().getAsLong(), c.budget().getAsLong());
      readings.add(reading);
      out.append(readings.size() == 1 ? "{" : ",{")
          .append("\"name\":")
          .append(JsonString.quote(c.name()))
          .append(",\"unit\":")
          .append(JsonString.quote(c.unit()))
          .append(',')
          .append(field("used_bytes", reading.used()))
          .append(',')
          .append(field("budget_bytes", reading.budget()))
          .append('}');
    }
    out.append(']');
    return readings;
  }

  private static void strings(StringBuilder out, List<String> values) {
    out.append('[');
    for (int i = 0; i < values.size(); i++) {
      out.append(i == 0 ? "" : ",").append(JsonString.quote(values.get(i)));
    }
    out.append(']');
  }

  private static void pressure(StringBuilder out, MemoryPressure pressure) {
    final MemoryUsageSource.MemoryReading r = pressure.lastReading();
    out.append("\"pressure\":{\"level\":\"")
        .append(pressure.level())
        .append("\",")
        .append(field("heap_used_after_gc", r.heapUsedAfterGc()))
        .append(',')
        .append(field("heap_max", r.heapMax()))
        .append(',')
        .append(field("direct_used", r.directUsed()))
        .append(',')
        .append(field("direct_max", r.directMax()))
        .append("},");
  }

  private static void requestPool(StringBuilder out, RequestBufferPool pool) {
    out.append("\"request_pool\":{");
    final int[] capacities = {RequestBufferPool.SMALL, RequestBufferPool.MEDIUM, -1};
    for (SizeClass c : SizeClass.values()) {
      out.append('"')
          .append(c.name().toLowerCase(Locale.ROOT))
          .append("\":{")
          .append(field("capacity", capacities[c.ordinal()]))
          .append(',')
          .append(field("in_use", pool.inUse(c)))
          .append(',')
          .append(field("in_use_bytes", pool.inUseBytes(c)))
          .append(',')
          .append(field("available", pool.available(c)))
          .append(',')
          .append(field("allocations", pool.allocations(c)))
          .append(',')
          .append(field("misses", pool.misses(c)))
          .append(',')
          .append(field("dropped", pool.dropped(c)))
          .append(c == SizeClass.LARGE ? "}" : "},");
    }
    out.append("},");
  }

  private static void producePool(StringBuilder out, ProduceMemoryPool pool) {
    out.append("\"produce_pool\":{")
        .append(field("total_bytes", pool.totalBytes()))
        .append(',')
        .append(field("used_bytes", pool.usedBytes()))
        .append(',')
        .append(field("available_bytes", pool.availableBytes()))
        .append(',')
        .append(field("waiting", pool.waiting()))
        .append(',')
        .append(field("waits", pool.waits()))
        .append(',')
        .append(field("timeouts", pool.timeouts()))
        .append("},");
  }

  private static void leak(StringBuilder out, MemoryLeakDetector detector) {
    out.append("\"leak\":{")
        .append(field("threshold_bytes_per_hour", detector.thresholdBytesPerHour()))
        .append(",\"warnings\":[");
    boolean first = true;
    for (LeakWarning w : detector.warnings()) {
      out.append(first ? "" : ",")
          .append("{\"kind\":\"")
          .append(w.kind())
          .append("\",")
          .append(field("bytes_per_hour", w.bytesPerHour()))
          .append(',')
          .append(field("normalised_bytes_per_hour", w.normalisedBytesPerHour()))
          .append('}');
      first = false;
    }
    out.append("],\"latest\":");
    final MemorySnapshot s = detector.latest();
    if (s == null) {
      out.append("null");
    } else {
      out.append('{')
          .append(field("heap_used_after_gc", s.heapUsedAfterGc()))
          .append(',')
          .append(field("direct_used", s.directUsed()))
          .append(',')
          .append(field("mapped_used", s.mappedUsed()))
          .append(',')
          .append(field("connections", s.connections()))
          .append(',')
          .append(field("partitions", s.partitions()))
          .append(',')
          .append(field("groups", s.groups()))
          .append('}');
    }
    out.append('}');
  }

  private static String field(String name, long value) {
    return "\"" + name + "\":" + value;
  }
}
