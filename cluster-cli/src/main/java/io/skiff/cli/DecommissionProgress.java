package io.skiff.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import org.apache.kafka.clients.admin.Admin;

/**
 * {@code skiff broker decommission --wait}: polls the broker's entry ({@code GET /v1/brokers})
 * every second until its state is {@code decommissioned}, printing "partitions moved M / TOTAL" to
 * stderr as the count of partitions still on it falls, where TOTAL is the count when the wait
 * began, with the bytes the moves under way have copied, their rate and ETA ({@link CopyProgress}),
 * at least every five seconds; the result carries the last of these as {@code progress}. Fails with
 * a {@link CliException} when {@code --timeout} passes first or the drain was cancelled
 * (recommissioned). Not thread-safe; one per run.
 */
final class DecommissionProgress {
  private static final long POLL_MS = 1_000;
  private static final long REPORT_NANOS = 5_000_000_000L;

  private final Invocation run;
  private final BrokerStates states;
  private final int id;
  private final CopyProgress copies;

  DecommissionProgress(Invocation run, BrokerStates states, Admin admin, int id) {
    this.run = run;
    this.states = states;
    this.id = id;
    this.copies = new CopyProgress(run, admin);
  }

  /** Waits from {@code started} (the entry the decommission answered) until it is finished. */
  JsonNode await(JsonNode started) throws Exception {
    final int total = started.path("replicas").asInt();
    final long deadline = System.nanoTime() + run.timeout().toNanos();
    final PrintWriter err = run.err();
    JsonNode broker = started;
    int lastMoved = -1;
    long lastReport = 0;
    CopyProgress.Sample copied = null;
    while (true) {
      final String state = broker.path("state").asText();
      final int moved = total - broker.path("replicas").asInt();
      final long now = System.nanoTime();
      if (moved != lastMoved || now - lastReport > REPORT_NANOS) {
        copied = copies.sample(null);
        report(err, moved, total, copied);
        lastMoved = moved;
        lastReport = now;
      }
      if (state.equals("decommissioned")) {
        return withProgress(broker, copied);
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

  private void report(PrintWriter err, int moved, int total, CopyProgress.Sample copied) {
    err.printf("broker %d: partitions moved %d / %d; %s%n", id, moved, total, copied.text());
    err.flush();
  }

  private static JsonNode withProgress(JsonNode broker, CopyProgress.Sample copied) {
    if (copied == null || !(broker instanceof ObjectNode object)) {
      return broker;
    }
    final ObjectNode result = object.deepCopy();
    result.set("progress", copied.toJson());
    return result;
  }
}
