package io.skiff.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code skiff memory}: the live memory report of one or more brokers, read from each broker's
 * admin endpoint {@code GET /v1/memory}: every category of the memory profile with what it uses
 * against its budget, the pressure level, leak warnings and tier advice.
 */
@Command(
    name = "memory",
    mixinStandardHelpOptions = true,
    description = "Live memory report of brokers (GET /v1/memory on each --admin address).",
    footer = {
      "",
      "Examples:",
      "  skiff memory --admin 127.0.0.1:9644,127.0.0.1:9744,127.0.0.1:9844",
      "  skiff memory --json",
      "",
      "For each broker: every memory-profile category with what it uses against its budget,",
      "the pressure level, leak warnings and tier advice."
    })
final class MemoryCommand implements Callable<Integer> {
  @Option(
      names = "--json",
      description = "Print each broker's JSON as it came (as --output json does).")
  boolean json;

  @Option(
      names = "--timeout-ms",
      defaultValue = "5000",
      description = "How long to wait for each broker (default: ${DEFAULT-VALUE}).")
  long timeoutMs;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    final Invocation run = SkiffCli.invocation(spec);
    final List<String> admins = run.admins();
    final boolean json = this.json || run.output() != Printer.Format.TEXT;
    final PrintWriter out = spec.commandLine().getOut();
    final PrintWriter err = spec.commandLine().getErr();
    final HttpClient http =
        HttpClient.newBuilder().connectTimeout(Duration.ofMillis(timeoutMs)).build();
    int failures = 0;
    for (String admin : admins) {
      try {
        final String body = fetch(http, admin);
        if (json) {
          out.println(body);
        } else {
          MemoryReport.parse(body).render(out);
          out.println();
        }
      } catch (IOException | IllegalArgumentException e) {
        err.println("skiff memory: " + admin + ": " + e.getMessage());
        failures++;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 1;
      }
    }
    out.flush();
    return failures == 0 ? 0 : 1;
  }

  private String fetch(HttpClient http, String admin) throws IOException, InterruptedException {
    final URI uri;
    try {
      uri = URI.create("http://" + admin + "/v1/memory");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a HOST:PORT address: '" + admin + "'", e);
    }
    final HttpResponse<String> response;
    try {
      response =
          http.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(timeoutMs)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IOException(
          "cannot reach the broker's admin port ("
              + e
              + "); is the broker up, and is "
              + admin
              + " its admin.port?",
          e);
    }
    if (response.statusCode() != 200) {
      throw new IOException(
          "GET " + uri + " answered " + response.statusCode() + ": " + response.body().strip());
    }
    return response.body();
  }
}
