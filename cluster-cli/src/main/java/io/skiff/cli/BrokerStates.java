package io.skiff.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The brokers' membership states (active, maintenance, draining, decommissioned) through the admin
 * HTTP API, since Kafka's Admin API has no verb for them: {@code GET /v1/brokers} and {@code POST
 * /v1/brokers/{id}/{action}} on the first {@code --admin} address that answers (any broker serves
 * every broker's state). Not thread-safe; one per command run.
 */
final class BrokerStates {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<String> admins;
  private final Duration timeout;
  private final HttpClient http;

  BrokerStates(Invocation run) {
    this.admins = run.admins();
    this.timeout = run.timeout();
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(
                timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5))
            .build();
  }

  /** Every registered broker's entry by id: id, host, port, rack, state, replicas. */
  Map<Integer, JsonNode> list() throws IOException, InterruptedException {
    final JsonNode array = JSON.readTree(send("GET", "/v1/brokers").body());
    final Map<Integer, JsonNode> brokers = new TreeMap<>();
    for (JsonNode b : array) {
      brokers.put(b.get("id").asInt(), b);
    }
    return brokers;
  }

  /** The states by id, or an empty map when no admin address answers (states then show as "?"). */
  Map<Integer, String> statesOrEmpty() {
    try {
      final Map<Integer, String> states = new TreeMap<>();
      list().forEach((id, b) -> states.put(id, b.get("state").asText()));
      return states;
    } catch (IOException | CliException e) {
      return Map.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Map.of();
    }
  }

  /**
   * Posts {@code action} ({@code maintenance/on}, {@code decommission}...) for broker {@code id};
   * returns its entry after the change, or throws a {@link CliException} with the broker's reason.
   */
  JsonNode post(int id, String action) throws IOException, InterruptedException {
    final HttpResponse<String> response = send("POST", "/v1/brokers/" + id + "/" + action);
    final JsonNode body = JSON.readTree(response.body());
    if (response.statusCode() != 200) {
      throw new CliException(body.path("error").asText(response.body()));
    }
    return body;
  }

  private HttpResponse<String> send(String method, String path)
      throws IOException, InterruptedException {
    IOException last = null;
    for (String admin : admins) {
      final HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://" + admin + path))
              .timeout(timeout)
              .method(method, HttpRequest.BodyPublishers.noBody())
              .build();
      try {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        last = e;
      }
    }
    throw new CliException(
        "no admin address answered "
            + method
            + " "
            + path
            + " (tried "
            + String.join(",", admins)
            + "; set --admin or SKIFF_ADMIN): "
            + last);
  }
}
