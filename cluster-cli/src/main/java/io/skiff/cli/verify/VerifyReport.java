package io.skiff.cli.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.skiff.cli.verify.Op.Fn;
import io.skiff.cli.verify.Op.Type;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Writes a verification run's report into a directory: {@code history.jsonl}, {@code verdict.json},
 * {@code verdict.txt} and {@code index.html} with three plots drawn by XChart: send latency over
 * time with the fault windows shaded, throughput (acknowledged sends and values read per second),
 * and the count of each anomaly class.
 *
 * <p>Stateless; each call writes its own files (AWT runs headless).
 */
public final class VerifyReport {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final Color FAULT = new Color(255, 140, 0, 60);
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 400;

  private VerifyReport() {}

  /** Writes the report of {@code history} judged {@code verdict} into {@code dir}. */
  public static void write(Path dir, String title, History history, Verdict verdict)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    history.write(dir.resolve("history.jsonl"));
    JSON.writeValue(dir.resolve("verdict.json").toFile(), verdict);
    Files.writeString(dir.resolve("verdict.txt"), verdict.summary(), StandardCharsets.UTF_8);
    final List<Op> ops = history.ops();
    BitmapEncoder.saveBitmap(
        latency(ops, verdict), dir.resolve("latency").toString(), BitmapFormat.PNG);
    BitmapEncoder.saveBitmap(
        throughput(ops), dir.resolve("throughput").toString(), BitmapFormat.PNG);
    BitmapEncoder.saveBitmap(
        anomalies(verdict), dir.resolve("anomalies").toString(), BitmapFormat.PNG);
    Files.writeString(dir.resolve("index.html"), html(title, verdict), StandardCharsets.UTF_8);
  }

  private static XYChart latency(List<Op> ops, Verdict verdict) {
    final XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Send latency")
            .xAxisTitle("time (s)")
            .yAxisTitle("latency (ms)")
            .build();
    final Map<Integer, Op> pending = new HashMap<>();
    final List<Double> okX = new ArrayList<>();
    final List<Double> okY = new ArrayList<>();
    final List<Double> infoX = new ArrayList<>();
    final List<Double> infoY = new ArrayList<>();
    double highest = 1;
    for (Op op : ops) {
      if (op.f() != Fn.SEND) {
        continue;
      }
      if (op.type() == Type.INVOKE) {
        pending.put(op.process(), op);
        continue;
      }
      final Op invoke = pending.remove(op.process());
      if (invoke != null) {
        final double ms = (op.timeNanos() - invoke.timeNanos()) / 1e6;
        highest = Math.max(highest, ms);
        (op.type() == Type.OK ? okX : infoX).add(op.timeNanos() / 1e9);
        (op.type() == Type.OK ? okY : infoY).add(ms);
      }
    }
    int n = 0;
    for (Verdict.FaultWindow w : verdict.availability()) {
      final XYSeries s =
          chart.addSeries(
              n++ == 0 ? "fault windows" : "fault " + n + ": " + w.fault(),
              new double[] {w.startMs() / 1e3, w.startMs() / 1e3, w.endMs() / 1e3, w.endMs() / 1e3},
              new double[] {0, highest, highest, 0});
      s.setXYSeriesRenderStyle(XYSeriesRenderStyle.Area);
      s.setFillColor(FAULT);
      s.setLineColor(FAULT);
      s.setMarker(SeriesMarkers.NONE);
      s.setShowInLegend(n == 1);
    }
    scatter(chart, "acknowledged", okX, okY, new Color(30, 90, 200));
    scatter(chart, "indeterminate", infoX, infoY, Color.RED);
    return chart;
  }

  private static void scatter(
      XYChart chart, String name, List<Double> x, List<Double> y, Color color) {
    if (x.isEmpty()) {
      return;
    }
    final XYSeries s = chart.addSeries(name, x, y);
    s.setXYSeriesRenderStyle(XYSeriesRenderStyle.Scatter);
    s.setMarkerColor(color);
    s.setMarker(SeriesMarkers.CIRCLE);
  }

  private static XYChart throughput(List<Op> ops) {
    final TreeMap<Long, Integer> sent = new TreeMap<>();
    final TreeMap<Long, Integer> read = new TreeMap<>();
    long last = 0;
    for (Op op : ops) {
      final long second = op.timeNanos() / 1_000_000_000L;
      last = Math.max(last, second);
      if (op.f() == Fn.SEND && op.type() == Type.OK) {
        sent.merge(second, 1, Integer::sum);
      } else if (op.f() == Fn.POLL && op.type() == Type.OK) {
        read.merge(second, op.reads().size(), Integer::sum);
      }
    }
    final double[] x = new double[(int) last + 1];
    final double[] sends = new double[x.length];
    final double[] reads = new double[x.length];
    for (int s = 0; s < x.length; s++) {
      x[s] = s;
      sends[s] = sent.getOrDefault((long) s, 0);
      reads[s] = read.getOrDefault((long) s, 0);
    }
    final XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Throughput")
            .xAxisTitle("time (s)")
            .yAxisTitle("per second")
            .build();
    chart.addSeries("sends acknowledged", x, sends).setMarker(SeriesMarkers.NONE);
    chart.addSeries("values read", x, reads).setMarker(SeriesMarkers.NONE);
    return chart;
  }

  private static CategoryChart anomalies(Verdict verdict) {
    final CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Anomalies (zero expected)")
            .yAxisTitle("count")
            .build();
    final List<String> names = new ArrayList<>();
    final List<Integer> counts = new ArrayList<>();
    verdict
        .anomalies()
        .forEach(
            (a, n) -> {
              names.add(a.name().toLowerCase().replace('_', ' '));
              counts.add(n);
            });
    chart.addSeries("anomalies", names, counts);
    chart.getStyler().setLegendVisible(false);
    chart.getStyler().setXAxisLabelRotation(20);
    return chart;
  }

  private static String html(String title, Verdict verdict) {
    final StringBuilder rows = new StringBuilder();
    for (Verdict.FaultWindow w : verdict.availability()) {
      rows.append(
          String.format(
              "<tr><td>%s</td><td>%.1f</td><td>%.1f</td><td>%d</td><td>%.3f</td><td>%.0f</td></tr>%n",
              escape(w.fault()),
              w.startMs() / 1e3,
              w.endMs() / 1e3,
              w.operations(),
              w.availability(),
              w.longestWriteOutageMs()));
    }
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
        + escape(title)
        + "</title><style>body{font-family:sans-serif;margin:2em}"
        + "td,th{padding:2px 10px;text-align:right}td:first-child{text-align:left}</style>"
        + "</head><body>\n<h1>"
        + escape(title)
        + ": "
        + (verdict.valid() ? "valid" : "INVALID")
        + "</h1>\n<pre>"
        + escape(verdict.summary())
        + "</pre>\n<h2>Fault windows</h2>\n<table><tr><th>fault</th><th>start s</th><th>end s</th>"
        + "<th>operations</th><th>availability</th><th>longest write outage ms</th></tr>\n"
        + rows
        + "</table>\n<img src=\"latency.png\" alt=\"send latency\">\n"
        + "<img src=\"throughput.png\" alt=\"throughput\">\n"
        + "<img src=\"anomalies.png\" alt=\"anomaly counts\">\n"
        + "<p>Raw data: <a href=\"history.jsonl\">history.jsonl</a>, "
        + "<a href=\"verdict.json\">verdict.json</a>.</p>\n</body></html>\n";
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
