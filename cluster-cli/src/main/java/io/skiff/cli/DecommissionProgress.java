package io.skiff.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * {@code skiff broker decommission --wait}: polls the broker's entry ({@code GET /v1/brokers})
 * every second until its state is {@code decommissioned}, printing "partitions moved M / TOTAL" to
 * stderr as the count of partitions still on it falls, where TOTAL is the count when the wait
 * began. Fails with a {@link CliException} when {@code --timeout} passes first or the drain was
 * cancelled (recommissioned). Not thread-safe; one per run.
 */
final class DecommissionProgress {
  private static final long POLL_MS = 1_000;

  private final Invocation run;
  private final BrokerStates states;
  private final int id;

  DecommissionProgress(Invocation run, BrokerStates states, int id) {
    this.run = run;
    this.states = states;
    this.id = id;
  }

  /** Waits from {@code started} (the entry the decommission answered) until it is finished. */
  JsonNode await(JsonNode started) throws IOException, InterruptedException {
    final int total = started.path("replicas").asInt();
    final long deadline = System.nanoTime() + run.timeout().toNanos();
    final PrintWriter err = run.err();
    JsonNode broker = started;
    int lastMoved = -1;
    while (true) {
      final String state = broker.path("state").asText();
      final int moved = total - broker.path("replicas").asInt();
      if (moved != lastMoved) {
        err.printf("broker %d: partitions moved %d / %d%n", id, moved, total);
        err.flush();
        lastMoved = moved;
      }
      if (state.equals("decommissioned")) {
        return broker;
      }
      if (!state.equals("draining")) {
        throw new CliException(
            "broker " + id + " is " + state + " now: the decommission was cancelled");
      }
      if (System.nanoTime() > deadline) {
        throw new CliException(
            "broker "
                + id
                + " still holds "
                + broker.path("replicas").asInt()
                + " partitions after "
                + run.timeout().toSeconds()
                + " s; the drain goes on in the cluster: wait again with --wait or a longer"
                + " --timeout");
      }
      Thread.sleep(POLL_MS);
      final JsonNode current = states.list().get(id);
      if (current == null) {
        throw new CliException("broker " + id + " is no longer registered");
      }
      broker = current;
    }
  }
}
