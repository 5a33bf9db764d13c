package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code skiff memory} against an HTTP endpoint serving a broker's report. */
class MemoryCommandTest {
  static final String REPORT =
      """
      {"node_id": 2, "tier": "small",
       "pressure": {"level": "WARNING", "heap_after_gc_ratio": 0.72, "direct_ratio": 0.1},
       "page_cache_hit_ratio": 0.985,
       "categories": [
         {"name": "heap", "used_bytes": 1610612736, "budget_bytes": 2147483648},
         {"name": "index mmap", "used_bytes": 912680550, "budget_bytes": 1073741824},
         {"name": "direct", "used_bytes": 1024, "budget_bytes": -1}],
       "leak_warnings": ["heap after GC grew 210 MiB/h per 1000 partitions over 3 h"],
       "advice": ["index budget 85 % used: raise to the medium tier or lower retention"]}
      """;

  private HttpServer server;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/memory",
        exchange -> {
          final byte[] body = REPORT.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private int run(String... args) {
    return SkiffCli.run(new PrintWriter(out), new PrintWriter(err), args);
  }

  private String admin() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  @Test
  void printsEveryCategoryAgainstItsBudgetWithWarningsAndAdvice() {
    assertThat(run("memory", "--admin", admin())).isZero();
    assertThat(out.toString())
        .contains("broker 2  tier small  pressure WARNING (heap after GC 72 %)")
        .contains("page cache hit ratio 99 %")
        .containsPattern("heap\\s+1\\.5 GiB\\s+2\\.0 GiB\\s+75 %")
        .containsPattern("index mmap\\s+870\\.4 MiB\\s+1\\.0 GiB\\s+85 %")
        .containsPattern("direct\\s+1\\.0 KiB\\s+-\\s+-")
        .contains("heap after GC grew 210 MiB/h")
        .contains("index budget 85 % used: raise to the medium tier or lower retention");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void printsTheJsonAsItCame() {
    assertThat(run("memory", "--json", "--admin", admin())).isZero();
    assertThat(out.toString()).contains("\"node_id\": 2");
  }

  @Test
  void reportsAnUnreachableBrokerAndStillAsksTheOthers() throws IOException {
    final int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    assertThat(run("memory", "--admin", "127.0.0.1:" + closed + "," + admin())).isEqualTo(1);
    assertThat(err.toString())
        .contains("127.0.0.1:" + closed + ": cannot reach the broker's admin port")
        .contains("is the broker up");
    assertThat(out.toString()).contains("broker 2");
  }

  @Test
  void rejectsAnAnswerThatIsNotAReport() {
    server.createContext(
        "/v1/other",
        exchange -> {
          exchange.sendResponseHeaders(404, -1);
          exchange.close();
        });
    server.removeContext("/v1/memory");
    assertThat(run("memory", "--admin", admin())).isEqualTo(1);
    assertThat(err.toString()).contains("answered 404");
  }

  @Test
  void aTypoIsAUsageError() {
    assertThat(run("memroy")).isEqualTo(2);
    assertThat(err.toString()).contains("Unmatched argument").contains("memroy");
  }
}
