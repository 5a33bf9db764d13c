package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker started long before a majority of the metadata voters keeps waiting to register, as a
 * Kafka broker waits for its controller, and registers once its peers are up: a cluster whose
 * machines boot minutes apart, or a loaded machine that keeps the metadata group electing, must not
 * lose the brokers that came first. (It once gave up after 2 minutes and exited.)
 *
 * <p>How long the first broker waits alone is {@code skiff.test.alone.seconds} (default 35 s, past
 * its first "still not registered" warning; run with 150 to wait past the old limit).
 */
class StaggeredStartTest {
  private static final Duration ALONE =
      Duration.ofSeconds(Long.getLong("skiff.test.alone.seconds", 35));

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void aBrokerWithoutAMajorityKeepsWaitingAndRegistersOnceItsPeersStart(@TempDir Path root)
      throws Exception {
    try (BrokerCluster cluster = BrokerCluster.configured(root, 3, Map.of())) {
      final CompletableFuture<Broker> first = start(cluster, 1);

      Thread.sleep(ALONE.toMillis());
      assertThat(first).as("broker 1, alone for %s", ALONE).isNotDone();

      final List<CompletableFuture<Broker>> others = List.of(start(cluster, 2), start(cluster, 3));
      final Broker one = first.get(4, TimeUnit.MINUTES);
      for (CompletableFuture<Broker> other : others) {
        other.get(4, TimeUnit.MINUTES);
      }
      for (int id = 1; id <= 3; id++) {
        assertThat(one.raft().metadata().image().broker(id))
            .as("broker %d registered", id)
            .isPresent();
      }
    }
  }

  private static CompletableFuture<Broker> start(BrokerCluster cluster, int id) {
    final CompletableFuture<Broker> started = new CompletableFuture<>();
    final Thread starter =
        new Thread(
            () -> {
              try {
                started.complete(cluster.start(id));
              } catch (Throwable e) {
                started.completeExceptionally(e);
              }
            },
            "start-broker-" + id);
    starter.setDaemon(true);
    starter.start();
    return started;
  }
}
