package io.skiff.broker.admin;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.SlidingWindowReservoir;
import com.codahale.metrics.Timer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminHttpServerTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final MetricRegistry registry = new MetricRegistry();
  private final AtomicReference<HealthStatus> health =
      new AtomicReference<>(HealthStatus.ok("serving 2 partitions"));
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
  private AdminHttpServer server;

  @BeforeEach
  void start() throws IOException {
    server = AdminHttpServer.start(new InetSocketAddress("127.0.0.1", 0), registry, health::get);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void servesTheRegistryAsPrometheusText() throws Exception {
    registry.register("broker.partitions", (Gauge<Long>) () -> 12L);
    registry.register("partition.size.bytes[topic=orders,partition=3]", (Gauge<Long>) () -> 1024L);
    registry.counter("produce.requests").inc(3);
    Histogram batchSize =
        registry.register("fetch.batch.size", new Histogram(new SlidingWindowReservoir(10)));
    for (int value = 1; value <= 10; value++) {
      batchSize.update(value);
    }
    Timer latency = registry.register("produce.latency", new Timer(new SlidingWindowReservoir(4)));
    for (int millis = 1; millis <= 4; millis++) {
      latency.update(Duration.ofMillis(millis));
    }

    HttpResponse<String> response = get("/metrics");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(response.body())
        .contains("\n# TYPE jvm_memory_used_bytes gauge\njvm_memory_used_bytes{area=\"heap\"} ")
        .contains("\n# TYPE jvm_gc_collection_seconds summary\n");
    assertThat(
            response
                .body()
                .lines()
                .takeWhile(line -> line.contains("skiff_"))
                .filter(line -> !line.startsWith("# HELP ")))
        .containsExactly(
            "# TYPE skiff_broker_partitions gauge",
            "skiff_broker_partitions 12",
            "# TYPE skiff_fetch_batch_size summary",
            "skiff_fetch_batch_size{quantile=\"0.5\"} 5.5",
            "skiff_fetch_batch_size{quantile=\"0.75\"} 8.25",
            "skiff_fetch_batch_size{quantile=\"0.95\"} 10.0",
            "skiff_fetch_batch_size{quantile=\"0.99\"} 10.0",
            "skiff_fetch_batch_size{quantile=\"0.999\"} 10.0",
            "skiff_fetch_batch_size_count 10",
            "# TYPE skiff_partition_size_bytes gauge",
            "skiff_partition_size_bytes{partition=\"3\",topic=\"orders\"} 1024",
            "# TYPE skiff_produce_latency_seconds summary",
            "skiff_produce_latency_seconds{quantile=\"0.5\"} 0.0025",
            "skiff_produce_latency_seconds{quantile=\"0.75\"} 0.00375",
            "skiff_produce_latency_seconds{quantile=\"0.95\"} 0.004",
            "skiff_produce_latency_seconds{quantile=\"0.99\"} 0.004",
            "skiff_produce_latency_seconds{quantile=\"0.999\"} 0.004",
            "skiff_produce_latency_seconds_count 4",
            "# TYPE skiff_produce_requests_total counter",
            "skiff_produce_requests_total 3");
  }

  @Test
  void answersHealthyWith200() throws Exception {
    HttpResponse<String> response = get("/health");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValue("application/json; charset=utf-8");
    assertThat(response.body())
        .isEqualTo("{\"status\":\"ok\",\"detail\":\"serving 2 partitions\"}");
  }

  @Test
  void answersUnhealthyWith503AndTheReason() throws Exception {
    health.set(HealthStatus.unavailable("metadata log \"behind\" by 1200 entries"));

    HttpResponse<String> response = get("/health");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body())
        .isEqualTo(
            "{\"status\":\"unavailable\",\"reason\":\"metadata log \\\"behind\\\" by 1200"
                + " entries\"}");
  }

  @Test
  void answers503WhenTheHealthCheckThrows() throws Exception {
    health.set(null);

    HttpResponse<String> response = get("/health");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body())
        .startsWith("{\"status\":\"unavailable\",\"reason\":\"health check failed");
  }

  @Test
  void servesRegisteredJsonEndpointsIgnoringTheQuery() throws Exception {
    server.registerJson("/v1/memory", () -> "{\"heapUsed\":1024}");

    HttpResponse<String> response = get("/v1/memory?pretty=true");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValue("application/json; charset=utf-8");
    assertThat(response.headers().firstValue("content-length")).hasValue("17");
    assertThat(response.body()).isEqualTo("{\"heapUsed\":1024}");
  }

  @Test
  void answers500WhenAJsonEndpointThrows() throws Exception {
    server.registerJson(
        "/v1/broken",
        () -> {
          throw new IllegalStateException("report not ready");
        });

    HttpResponse<String> response = get("/v1/broken");

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(response.body()).contains("report not ready");
  }

  @Test
  void refusesToRegisterReservedOrDuplicatePaths() {
    server.registerJson("/v1/memory", () -> "{}");

    assertThatThrownBy(() -> server.registerJson("/v1/memory", () -> "{}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> server.registerJson("/metrics", () -> "{}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> server.registerJson("v1/relative", () -> "{}"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void answers404ForUnknownPaths() throws Exception {
    HttpResponse<String> response = get("/v1/nothing-here");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).contains("/v1/nothing-here");
  }

  @Test
  void answers405ForOtherMethods() throws Exception {
    HttpRequest post =
        HttpRequest.newBuilder(uri("/metrics"))
            .timeout(TIMEOUT)
            .POST(HttpRequest.BodyPublishers.ofString("x"))
            .build();

    HttpResponse<String> response = client.send(post, HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.headers().firstValue("allow")).hasValue("GET");
  }

  @Test
  void keepsAKeepAliveConnectionOpenAcrossPipelinedRequests() throws IOException {
    try (Socket socket = connect()) {
      String request = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
      socket.getOutputStream().write((request + request).getBytes(US_ASCII));

      InputStream in = socket.getInputStream();
      assertThat(readResponse(in))
          .startsWith("HTTP/1.1 200 OK")
          .doesNotContain("connection: close");
      assertThat(readResponse(in)).startsWith("HTTP/1.1 200 OK");

      socket
          .getOutputStream()
          .write("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(US_ASCII));
      assertThat(readResponse(in)).startsWith("HTTP/1.1 200 OK");
    }
  }

  @Test
  void closesTheConnectionWhenTheClientAsksTo() throws IOException {
    try (Socket socket = connect()) {
      socket
          .getOutputStream()
          .write(
              "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                  .getBytes(US_ASCII));

      InputStream in = socket.getInputStream();
      assertThat(readResponse(in)).startsWith("HTTP/1.1 200 OK").contains("connection: close");
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void closesAnHttp10ConnectionAfterTheResponse() throws IOException {
    try (Socket socket = connect()) {
      socket.getOutputStream().write("GET /health HTTP/1.0\r\n\r\n".getBytes(US_ASCII));

      InputStream in = socket.getInputStream();
      assertThat(readResponse(in)).startsWith("HTTP/1.0 200 OK");
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void answers400ToAMalformedRequestAndCloses() throws IOException {
    try (Socket socket = connect()) {
      socket
          .getOutputStream()
          .write("GET /health HTTP/1.1\r\nbroken header\r\n\r\n".getBytes(US_ASCII));

      InputStream in = socket.getInputStream();
      assertThat(readResponse(in)).startsWith("HTTP/1.1 400 Bad Request");
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void runsOnNamedAdminThreads() throws Exception {
    get("/health");

    assertThat(Thread.getAllStackTraces().keySet())
        .extracting(Thread::getName)
        .anyMatch(name -> name.matches("skiff-admin-\\d+"));
  }

  @Test
  void failsToStartOnAPortInUse() {
    InetSocketAddress taken = new InetSocketAddress("127.0.0.1", server.port());

    assertThatThrownBy(() -> AdminHttpServer.start(taken, registry, health::get))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Cannot bind the admin HTTP server");
  }

  @Test
  void stopsListeningOnClose() {
    int port = server.port();

    server.close();

    assertThat(port).isPositive();
    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
        .isInstanceOf(ConnectException.class);
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(uri(path)).timeout(TIMEOUT).GET().build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", server.port());
    socket.setSoTimeout((int) TIMEOUT.toMillis());
    return socket;
  }

  /** Reads one response with a Content-Length body; returns its head (lower-cased) and body. */
  private static String readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(US_ASCII).endsWith("\r\n\r\n")) {
      int next = in.read();
      assertThat(next).as("end of stream inside the response head").isNotEqualTo(-1);
      head.write(next);
    }
    String headText = head.toString(US_ASCII);
    int length =
        headText
            .lines()
            .filter(line -> line.toLowerCase().startsWith("content-length:"))
            .mapToInt(line -> Integer.parseInt(line.substring(line.indexOf(':') + 1).trim()))
            .findFirst()
            .orElseThrow();
    String body = new String(in.readNBytes(length), US_ASCII);
    String statusLine = headText.substring(0, headText.indexOf("\r\n"));
    return statusLine + "\n" + headText.substring(statusLine.length()).toLowerCase() + body;
  }
}
