package io.skiff.bench.sbs;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws the results as one PNG with XChart: produce latency CDFs (each system and produce workload,
 * histograms of all runs merged; log latency axis) above acknowledged MB/s per second of run 1 of
 * each produce workload. Stateless; needs no display ({@code java.awt.headless}).
 */
final class ResultChart {
  private static final int WIDTH = 1200;
  private static final int HEIGHT = 700;

  private ResultChart() {}

  static void write(Path png, List<WorkloadResult> results) throws IOException {
    final XYChart cdf = latencyCdf(results);
    final XYChart throughput = throughputOverTime(results);
    final BufferedImage image = new BufferedImage(WIDTH, 2 * HEIGHT, BufferedImage.TYPE_INT_RGB);
    final Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    cdf.paint(g, WIDTH, HEIGHT);
    g.translate(0, HEIGHT);
    throughput.paint(g, WIDTH, HEIGHT);
    g.dispose();
    ImageIO.write(image, "png", png.toFile());
  }

  private static XYChart latencyCdf(List<WorkloadResult> results) {
    final XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Produce latency CDF (send() to ack, acks=all; all runs merged)")
            .xAxisTitle("latency ms (log)")
            .yAxisTitle("percentile")
            .build();
    chart.getStyler().setXAxisLogarithmic(true);
    chart.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
    final Map<String, Histogram> merged = new LinkedHashMap<>();
    for (WorkloadResult r : results) {
      if (r.latencyMicros() != null && r.latencyMicros().getTotalCount() > 0) {
        merged
            .computeIfAbsent(
                r.system() + " " + r.workload(),
                k -> new Histogram(r.latencyMicros().getHighestTrackableValue(), 3))
            .add(r.latencyMicros());
      }
    }
    merged.forEach(
        (name, h) -> {
          final List<Double> x = new ArrayList<>();
          final List<Double> y = new ArrayList<>();
          // Denser towards the tail: percentiles 100 * (1 - 10^(-k/25)) for k = 0..100 (to 99.99).
          for (int k = 0; k <= 100; k++) {
            final double p = 100 * (1 - Math.pow(10, -k / 25.0));
            x.add(Math.max(0.01, h.getValueAtPercentile(p) / 1e3));
            y.add(p);
          }
          x.add(Math.max(0.01, h.getMaxValue() / 1e3));
          y.add(100.0);
          line(chart.addSeries(name, x, y));
        });
    return chart;
  }

  private static XYChart throughputOverTime(List<WorkloadResult> results) {
    final XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Acknowledged MB/s per second (run 1)")
            .xAxisTitle("second of workload")
            .yAxisTitle("MB/s (2^20 B)")
            .build();
    for (WorkloadResult r : results) {
      if (r.run() != 1 || r.mbPerSecond() == null || r.mbPerSecond().length == 0) {
        continue;
      }
      final double[] x = new double[r.mbPerSecond().length];
      for (int i = 0; i < x.length; i++) {
        x[i] = i;
      }
      line(chart.addSeries(r.system() + " " + r.workload(), x, r.mbPerSecond()));
    }
    return chart;
  }

  private static void line(XYSeries s) {
    s.setMarker(SeriesMarkers.NONE);
  }
}
