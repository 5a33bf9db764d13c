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
  /** A broker's answer, in the shape Broker#toJson writes it (trimmed of pool details). */
  static final String REPORT =
      """
      {"tier":"small","limits":{"max_connections":1000,"max_partitions":2000},
       "pressure":{"level":"WARNING","heap_used_after_gc":3092376453,"heap_max":4294967296,
                   "direct_used":12259728,"direct_max":3221225472},
       "produce_pool":{"total_bytes":33554432,"used_bytes":0},
       "leak":{"threshold_bytes_per_hour":67108864,"warnings":[{"kind":"HEAP"}]},
       "node_id":2,"page_cache_hit_ratio":0.9850,
       "categories":[
         {"name":"heap (after GC)","unit":"bytes","used_bytes":3092376453,"budget_bytes":4294967296},
         {"name":"index mmap","unit":"bytes","used_bytes":1825361100,"budget_bytes":2147483648},
         {"name":"mapped","unit":"bytes","used_bytes":1024,"budget_bytes":-1},
         {"name":"partitions","unit":"count","used_bytes":412,"budget_bytes":2000}],
       "leak_warnings":["HEAP grows 210 MiB/h (3 MiB/h per partition growth)"],
       "advice":["index mmap budget 85 % used: raise to the medium tier or lower retention"]}
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
        .containsPattern("heap \\(after GC\\)\\s+2\\.9 GiB\\s+4\\.0 GiB\\s+72 %")
        .containsPattern("index mmap\\s+1\\.7 GiB\\s+2\\.0 GiB\\s+85 %")
        .containsPattern("mapped\\s+1\\.0 KiB\\s+-\\s+-")
        .containsPattern("partitions\\s+412\\s+2000\\s+21 %")
        .contains("HEAP grows 210 MiB/h")
        .contains("index mmap budget 85 % used: raise to the medium tier or lower retention");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void printsTheJsonAsItCame() {
    assertThat(run("memory", "--json", "--admin", admin())).isZero();
    assertThat(out.toString()).contains("\"node_id\":2");
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
