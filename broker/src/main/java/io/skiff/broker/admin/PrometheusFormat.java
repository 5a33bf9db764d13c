package io.skiff.broker.admin;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import java.math.BigDecimal;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renders a Dropwizard {@link MetricRegistry} in the Prometheus text exposition format, version
 * 0.0.4.
 *
 * <h2>Names and labels</h2>
 *
 * Every family name is the Dropwizard name with the prefix {@code skiff_}, and every character
 * outside {@code [a-zA-Z0-9_:]} replaced by {@code _} ({@code jvm.threads.live} becomes {@code
 * skiff_jvm_threads_live}). A Dropwizard name may end with a label suffix in square brackets, so
 * that one family can hold one series per partition, pool or collector:
 *
 * <pre>
 *   registry.register("partition.log.size.bytes[topic=orders,partition=3]", gauge);
 *   →  skiff_partition_log_size_bytes{partition="3",topic="orders"} 1048576
 * </pre>
 *
 * Labels are sorted by name. Label values may not contain {@code ,}; a suffix that does not parse
 * is not split into labels (see {@link PrometheusName}).
 *
 * <h2>Metric types</h2>
 *
 * <pre>
 *   Dropwizard  Prometheus family                 samples
 *   ──────────  ────────────────────────────────  ──────────────────────────────────────────
 *   Gauge       NAME                  gauge       the value; non-numeric gauges are skipped
 *   Counter     NAME_total            counter     the count (Skiff's counters only count events)
 *   Meter       NAME_total            counter     the count
 *               NAME_m1_rate          gauge       the one-minute rate, events per second
 *   Histogram   NAME                  summary     quantiles 0.5 0.75 0.95 0.99 0.999, NAME_count
 *   Timer       NAME_seconds          summary     as Histogram, durations in seconds
 *   {@link LatencyHistogram}
 *               NAME_seconds          histogram   NAME_seconds_bucket{le=...} (cumulative, +Inf
 *                                                 last), NAME_seconds_sum, NAME_seconds_count
 * </pre>
 *
 * Summaries carry no {@code _sum}: Dropwizard keeps a sample of values, not their total. A name
 * that already ends with {@code _total} does not get a second one.
 *
 * <h2>Order and conflicts</h2>
 *
 * Every family starts with a {@code # HELP} line naming the Dropwizard metric it comes from, then
 * its {@code # TYPE} line. Families are written in order of family name, series within a family in
 * order of Dropwizard name, so two renderings of the same registry are identical. When two
 * Dropwizard metrics map to the same family with different types, or to the same series, the one
 * whose Dropwizard name sorts first is kept and the other is left out and logged once: Prometheus
 * would reject the whole scrape otherwise.
 *
 * <p>Stateless and thread-safe; the metrics are read while other threads update them, so a
 * rendering is not an atomic snapshot of the registry.
 */
public final class PrometheusFormat {

  /** The {@code Content-Type} of the text format, version 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** Quantiles written for every histogram and timer. */
  static final double[] QUANTILES = {0.5, 0.75, 0.95, 0.99, 0.999};

  private static final double NANOS_PER_SECOND = 1_000_000_000.0;
  private static final Logger LOG = LoggerFactory.getLogger(PrometheusFormat.class);
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private PrometheusFormat() {}

  /** Renders every metric of {@code registry}; the text ends with a newline unless empty. */
  public static String render(MetricRegistry registry) {
    Map<String, Family> families = new TreeMap<>();
    for (Map.Entry<String, Metric> entry : new TreeMap<>(registry.getMetrics()).entrySet()) {
      String dropwizardName = entry.getKey();
      PrometheusName name = PrometheusName.parse(dropwizardName);
      Metric metric = entry.getValue();
      if (metric instanceof LatencyHistogram histogram) {
        writeHistogram(families, dropwizardName, name, histogram);
      } else if (metric instanceof Gauge<?> gauge) {
        writeGauge(families, dropwizardName, name, gauge);
      } else if (metric instanceof Counter counter) {
        writeCounter(families, dropwizardName, name, counter);
      } else if (metric instanceof Meter meter) {
        writeMeter(families, dropwizardName, name, meter);
      } else if (metric instanceof Timer timer) {
        String family = name.family() + "_seconds";
        Family target = family(families, dropwizardName, family, name, "summary");
        writeSummary(target, family, name, timer.getSnapshot(), NANOS_PER_SECOND);
        writeCount(target, family, name, timer.getCount());
      } else if (metric instanceof Histogram histogram) {
        Family target = family(families, dropwizardName, name.family(), name, "summary");
        writeSummary(target, name.family(), name, histogram.getSnapshot(), 1);
        writeCount(target, name.family(), name, histogram.getCount());
      }
    }
    StringBuilder out = new StringBuilder();
    families.forEach(
        (family, samples) ->
            out.append("# HELP ")
                .append(family)
                .append(' ')
                .append(samples.help)
                .append('\n')
                .append("# TYPE ")
                .append(family)
                .append(' ')
                .append(samples.type)
                .append('\n')
                .append(samples.lines));
    return out.toString();
  }

  private static void writeGauge(
      Map<String, Family> families, String dropwizardName, PrometheusName name, Gauge<?> gauge) {
    Object value;
    try {
      value = gauge.getValue();
    } catch (RuntimeException e) {
      warnOnce(dropwizardName, "its gauge threw " + e);
      return;
    }
    if (value instanceof Number number) {
      Family target = family(families, dropwizardName, name.family(), name, "gauge");
      if (target != null) {
        target.sample(name.family(), name.renderLabels(), formatNumber(number));
      }
    }
  }

  private static void writeCounter(
      Map<String, Family> families, String dropwizardName, PrometheusName name, Counter counter) {
    String total = totalName(name);
    Family target = family(families, dropwizardName, total, name, "counter");
    if (target != null) {
      target.sample(total, name.renderLabels(), Long.toString(counter.getCount()));
    }
  }

  private static String totalName(PrometheusName name) {
    return name.family().endsWith("_total") ? name.family() : name.family() + "_total";
  }

  private static void writeHistogram(
      Map<String, Family> families,
      String dropwizardName,
      PrometheusName name,
      LatencyHistogram histogram) {
    String family = name.family() + "_seconds";
    Family target = family(families, dropwizardName, family, name, "histogram");
    if (target == null) {
      return;
    }
    long[] counts = histogram.cumulativeCounts();
    for (int i = 0; i < counts.length; i++) {
      String le =
          i < LatencyHistogram.BOUNDS_SECONDS.length
              ? BigDecimal.valueOf(LatencyHistogram.BOUNDS_SECONDS[i])
                  .stripTrailingZeros()
                  .toPlainString()
              : "+Inf";
      target.sample(family + "_bucket", name.renderLabels("le", le), Long.toString(counts[i]));
    }
    target.sample(family + "_sum", name.renderLabels(), formatDouble(histogram.sumSeconds()));
    target.sample(family + "_count", name.renderLabels(), Long.toString(counts[counts.length - 1]));
  }

  private static void writeMeter(
      Map<String, Family> families, String dropwizardName, PrometheusName name, Meter meter) {
    String total = totalName(name);
    Family counter = family(families, dropwizardName, total, name, "counter");
    if (counter != null) {
      counter.sample(total, name.renderLabels(), Long.toString(meter.getCount()));
    }
    String rate = name.family() + "_m1_rate";
    Family gauge = family(families, dropwizardName, rate, name, "gauge");
    if (gauge != null) {
      gauge.sample(rate, name.renderLabels(), formatDouble(meter.getOneMinuteRate()));
    }
  }

  private static void writeSummary(
      Family target, String family, PrometheusName name, Snapshot snapshot, double divisor) {
    if (target == null) {
      return;
    }
    for (double quantile : QUANTILES) {
      target.sample(
          family,
          name.renderLabels("quantile", Double.toString(quantile)),
          formatDouble(snapshot.getValue(quantile) / divisor));
    }
  }

  private static void writeCount(Family target, String family, PrometheusName name, long count) {
    if (target != null) {
      target.sample(family + "_count", name.renderLabels(), Long.toString(count));
    }
  }

  /**
   * Returns the family to write the series {@code name} into, creating it with {@code type}, or
   * {@code null} when the family has another type or already holds that series.
   */
  private static Family family(
      Map<String, Family> families,
      String dropwizardName,
      String family,
      PrometheusName name,
      String type) {
    Family target =
        families.computeIfAbsent(family, ignored -> new Family(type, help(dropwizardName)));
    if (!target.type.equals(type)) {
      warnOnce(dropwizardName, family + " is already a " + target.type + ", not a " + type);
      return null;
    }
    if (!target.series.add(name.renderLabels())) {
      warnOnce(dropwizardName, family + name.renderLabels() + " is already written");
      return null;
    }
    return target;
  }

  /** The help text of a family: the Dropwizard name it comes from, without its labels. */
  private static String help(String dropwizardName) {
    int open = dropwizardName.indexOf('[');
    String base = open > 0 ? dropwizardName.substring(0, open) : dropwizardName;
    return "Skiff metric " + base.replace("\\", "\\\\").replace("\n", "\\n");
  }

  private static void warnOnce(String dropwizardName, String reason) {
    if (WARNED.add(dropwizardName)) {
      LOG.warn(
          "Metric '{}' is left out of /metrics because {}; rename or fix it where it is"
              + " registered (logged once)",
          dropwizardName,
          reason);
    }
  }

  /** Integral types are written exactly; anything else as a double. */
  static String formatNumber(Number number) {
    if (number instanceof Long
        || number instanceof Integer
        || number instanceof Short
        || number instanceof Byte
        || number instanceof AtomicLong
        || number instanceof AtomicInteger) {
      return Long.toString(number.longValue());
    }
    return formatDouble(number.doubleValue());
  }

  /** Writes a double as Prometheus (Go's {@code ParseFloat}) reads it. */
  static String formatDouble(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    return Double.toString(value);
  }

  /** The samples of one family, in the order they are written; used by one rendering only. */
  private static final class Family {
    final String type;
    final String help;
    final StringBuilder lines = new StringBuilder();
    final Set<String> series = new HashSet<>();

    Family(String type, String help) {
      this.type = type;
      this.help = help;
    }

    void sample(String sampleName, String labels, String value) {
      lines.append(sampleName).append(labels).append(' ').append(value).append('\n');
    }
  }
}
