package io.skiff.chaos;

import io.skiff.testing.ListenPorts;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Prometheus server (Debian's {@code prometheus} package, {@code /usr/bin/prometheus}) run
 * as a child process, scraping the given admin endpoints every second under job {@code skiff}, with
 * the repository's alert rules loaded; {@link #query} asks its HTTP API. Data in a temporary
 * directory removed by {@link #close}. Not thread-safe.
 */
final class PrometheusServer implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/bin/prometheus");

  private final Path dir;
  private final Process process;
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();

  PrometheusServer(List<String> targets, Path rules) throws IOException {
    this.dir = Files.createTempDirectory("skiff-prometheus");
    this.port = ListenPorts.free();
    Files.copy(rules, dir.resolve("alerts.yml"));
    Files.writeString(
        dir.resolve("prometheus.yml"),
        """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        rule_files: [alerts.yml]
        scrape_configs:
          - job_name: skiff
            static_configs:
              - targets: [%s]
        """
            .formatted(targets.stream().map(t -> '"' + t + '"').collect(Collectors.joining(","))));
    this.process =
        new ProcessBuilder(
                BINARY.toString(),
                "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
  }

  /** The JSON answer of an instant query; throws unless Prometheus answers 200. */
  String query(String promql) throws IOException, InterruptedException {
    final URI uri =
        URI.create(
            "http://127.0.0.1:"
                + port
                + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    final HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException(
          "query " + promql + " answered " + response.statusCode() + ": " + response.body());
    }
    return response.body();
  }

  /** Whether an instant query returns at least one series. */
  boolean hasData(String promql) {
    try {
      return !query(promql).contains("\"result\":[]");
    } catch (IOException e) {
      return false; // not up yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The server's log, for failure messages. */
  String log() throws IOException {
    return Files.readString(dir.resolve("prometheus.log"));
  }

  @Override
  public void close() throws IOException {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
