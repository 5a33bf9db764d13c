package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataService;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.retry.RetryPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** With no majority of metadata voters up, a change fails in bounded time and says why. */
class MetadataQuorumLossTest {
  @TempDir Path dir;

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void aChangeWithoutAQuorumFailsInBoundedTimeWithAClearError() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      for (int id = 1; id <= 3; id++) {
        cluster.node(id).startMetadata(cluster.peers(1, 2, 3), java.util.List.of());
      }
      for (int id = 1; id <= 3; id++) {
        final RaftNode node = cluster.node(id);
        node.metadata()
            .registerBroker(
                new BrokerInfo(id, "127.0.0.1", 9000 + id, node.config().port(), "", true))
            .get(60, TimeUnit.SECONDS);
      }
      cluster.stop(2);
      cluster.stop(3);

      final long start = System.nanoTime();
      final CompletableFuture<?> change =
          cluster.node(1).metadata().createTopic("orders", 1, 1, Map.of());
      assertThatThrownBy(() -> change.get(120, TimeUnit.SECONDS))
          .as("the change fails rather than waiting forever")
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(TimeoutException.class)
          .hasMessageContaining("a majority of metadata.voters must be up");
      final long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
      assertThat(seconds)
          .isGreaterThanOrEqualTo(MetadataService.CHANGE_TIMEOUT_SECONDS - 1)
          .isLessThan(MetadataService.CHANGE_TIMEOUT_SECONDS + 30);
    }
  }

  @Test
  void theMetadataClientBacksOffBetweenAttemptsAndStops() {
    final RetryPolicy policy = MetadataService.retryPolicy();
    long slept = 0;
    int attempts = 1;
    for (; ; attempts++) {
      final int attempt = attempts;
      final RetryPolicy.Action action = policy.handleAttemptFailure(() -> attempt);
      if (!action.shouldRetry()) {
        break;
      }
      assertThat(action.getSleepTime().toLong(TimeUnit.MILLISECONDS))
          .as("pause before attempt %d", attempt + 1)
          .isPositive();
      slept += action.getSleepTime().toLong(TimeUnit.MILLISECONDS);
    }
    assertThat(attempts).as("attempts before it gives up").isBetween(5, 100);
    assertThat(slept).as("total pause, ms").isBetween(10_000L, 120_000L);
  }
}
