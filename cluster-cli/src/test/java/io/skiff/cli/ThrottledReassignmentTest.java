package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.skiff.broker.Broker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code skiff partition reassign --execute --max-bytes-per-sec}: 48 MiB over three partitions of
 * three brokers move to a fourth that joins empty, with a generated plan and a 2 MiB/s throttle.
 * The new replicas' log growth on broker 4, sampled every 200 ms, stays under 1.3 times the
 * throttle over every 2 s window after the first; {@code --verify} then reports done and lifts the
 * throttle, and every record reads back as written.
 */
@Timeout(900)
class ThrottledReassignmentTest extends ThrottledMoveTest {
  private static final String TOPIC = "bulk";
  private static final int PARTITIONS = 3;
  private static final int RECORDS = 48 * 1024 * 1024 / RECORD_BYTES;
  private static final long THROTTLE = 2L << 20;
  private static final long SAMPLE_MS = 200;
  private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(2);

  @Test
  void aThrottledMoveCatchesUpNoFasterThanTheThrottleAndVerifyLiftsIt() throws Exception {
    final PlannedMove move = planMoveToANewBroker(TOPIC, PARTITIONS, RECORDS, "to-four.json");
    final Broker four = move.joined();
    final Path plan = move.plan();

    final List<long[]> samples = new ArrayList<>();
    final AtomicBoolean sampling = new AtomicBoolean(true);
    final Thread sampler =
        Thread.ofPlatform()
            .name("test-log-growth")
            .start(
                () -> {
                  while (sampling.get()) {
                    synchronized (samples) {
                      samples.add(new long[] {System.nanoTime(), bytesOn(four)});
                    }
                    try {
                      Thread.sleep(SAMPLE_MS);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
    final Cli.Run executed = executeThrottled(plan, THROTTLE);
    assertThat(executed.err())
        .contains("replication throttle: new replicas catch up at most 2.0 MiB/s");
    assertThat(statusThrottle().asLong()).isEqualTo(THROTTLE);
    assertThat(ok("cluster", "status").out()).contains("replication throttle:        2.0 MiB/s");

    final JsonNode verified = verifyUntilDone(plan);
    sampling.set(false);
    sampler.join();
    assertThat(verified.path("throttle_lifted").asBoolean()).as(verified.toString()).isTrue();
    assertThat(statusThrottle().isNull()).isTrue();

    System.out.println("verify: " + verified);
    final long copied = samples.getLast()[1];
    assertThat(copied).as("broker 4 holds every partition").isGreaterThan(45L << 20);
    final double worst = fastestWindow(samples);
    final double average = averageRate(samples);
    System.out.printf(
        "throttle %d B/s: broker 4 copied %d bytes, average %.0f B/s, fastest 2 s window %.0f B/s,"
            + " through the replica fetcher %d bytes%n",
        THROTTLE, copied, average, worst, four.raft().replicaFetcher().throttledBytes());
    assertThat(worst).as("fastest 2 s window, B/s").isLessThanOrEqualTo(THROTTLE * 1.3);
    assertThat(average).as("average B/s").isGreaterThan(THROTTLE * 0.5);
    assertThat(four.raft().replicaFetcher().throttledBytes())
        .as("the bulk went through the throttled replica fetcher")
        .isGreaterThan(copied * 9 / 10);
    assertEveryRecordReadable(cluster.bootstrap(), TOPIC, PARTITIONS, RECORDS);
  }

  /** Runs --verify until it reports done; in between, it must have shown bytes being copied. */
  private JsonNode verifyUntilDone(Path plan) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
    boolean sawCopying = false;
    while (true) {
      final Cli.Run run =
          cli.run("partition", "reassign", "--plan", plan.toString(), "--verify", "-o", "json");
      if (run.exit() == 0) {
        assertThat(sawCopying).as("--verify showed the bytes of moves under way").isTrue();
        return run.json();
      }
      assertThat(run.exit()).as(run.toString()).isEqualTo(1);
      assertThat(run.json().path("throttle_lifted").asBoolean()).isFalse();
      final JsonNode progress = run.json().path("progress");
      if (progress.path("bytes_total").asLong() > 0) {
        assertThat(progress.path("bytes_copied").asLong())
            .isBetween(0L, progress.path("bytes_total").asLong());
        sawCopying = true;
      }
      assertThat(System.nanoTime()).as("moves done in time: " + run).isLessThan(deadline);
      Thread.sleep(2000);
    }
  }

  private static long bytesOn(Broker broker) {
    return bytesOn(broker, TOPIC);
  }

  /** The highest rate over any 2 s window that starts 2 s or more after the growth began. */
  private static double fastestWindow(List<long[]> samples) {
    return fastestWindow(
        samples, samples.stream().filter(s -> s[1] > 0).findFirst().orElseThrow()[0]);
  }

  /**
   * The highest rate over any 2 s window of {@code {nanos, bytes}} samples from {@code began + 2
   * s}.
   */
  static double fastestWindow(List<long[]> samples, long began) {
    double fastest = 0;
    for (int i = 0; i < samples.size(); i++) {
      if (samples.get(i)[0] < began + WINDOW_NANOS) {
        continue;
      }
      for (int j = i + 1; j < samples.size(); j++) {
        final long window = samples.get(j)[0] - samples.get(i)[0];
        if (window >= WINDOW_NANOS) {
          fastest = Math.max(fastest, (samples.get(j)[1] - samples.get(i)[1]) * 1e9 / window);
          break;
        }
      }
    }
    return fastest;
  }

  /** Bytes over the time from the first growth to the last. */
  private static double averageRate(List<long[]> samples) {
    final long[] first = samples.stream().filter(s -> s[1] > 0).findFirst().orElseThrow();
    final long total = samples.getLast()[1];
    final long[] last = samples.stream().filter(s -> s[1] == total).findFirst().orElseThrow();
    return last[0] == first[0] ? 0 : (last[1] - first[1]) * 1e9 / (last[0] - first[0]);
  }
}
