package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Brokers that are not metadata voters join the metadata group as listeners through its leader: two
 * at once are both added, a second join adds no duplicate, and a removed listener can be added
 * again; voters are never removed.
 */
class MetadataListenersTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Await AWAIT = Await.atMost(WAIT);

  @TempDir Path dir;

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void twoBrokersJoiningAtOnceBothBecomeListenersAndReceiveTheLog() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 5, c -> c)) {
      for (int id = 1; id <= 3; id++) {
        cluster.node(id).startMetadata(cluster.peers(1, 2, 3), List.of());
      }
      for (int id = 4; id <= 5; id++) {
        cluster.node(id).startMetadata(cluster.peers(1, 2, 3), cluster.peers(id));
      }
      final CompletableFuture<Void> four = joinAsync(cluster, 4);
      final CompletableFuture<Void> five = joinAsync(cluster, 5);
      CompletableFuture.allOf(four, five).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      AWAIT.until("every voter knows both listeners", () -> everyoneSees(cluster, List.of(4, 5)));

      cluster
          .node(4)
          .metadata()
          .registerBroker(new BrokerInfo(4, "127.0.0.1", 9004, 1, "", true))
          .get(30, TimeUnit.SECONDS);
      AWAIT.until(
          "broker 5 applies what broker 4 registered",
          () -> cluster.node(5).metadata().image().broker(4).isPresent());

      cluster.node(4).metadataListeners().join(cluster.node(4).self(), WAIT);
      assertThat(cluster.node(1).metadataListeners().listeners())
          .as("joining twice adds no duplicate")
          .containsExactly(4, 5);

      assertThat(cluster.node(2).metadataListeners().remove(4, WAIT)).isTrue();
      AWAIT.until("broker 4 is no listener any more", () -> everyoneSees(cluster, List.of(5)));
      assertThat(cluster.node(2).metadataListeners().remove(4, WAIT)).isFalse();
      assertThatThrownBy(() -> cluster.node(2).metadataListeners().remove(1, WAIT))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("metadata voter");
      assertThat(cluster.node(1).metadataListeners().voters()).containsExactly(1, 2, 3);

      cluster.node(4).metadataListeners().join(cluster.node(4).self(), WAIT);
      AWAIT.until("broker 4 listens again", () -> everyoneSees(cluster, List.of(4, 5)));
    }
  }

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void aListenerJoiningAfterTheLogWasPurgedInstallsTheLeadersState() throws Exception {
    try (RaftCluster cluster =
        new RaftCluster(dir, 4, c -> c.withSnapshotEntries(5).withRaftSegmentBytes(16 * 1024))) {
      for (int id = 1; id <= 3; id++) {
        cluster.node(id).startMetadata(cluster.peers(1, 2, 3), List.of());
      }
      for (int id = 1; id <= 3; id++) {
        cluster
            .node(1)
            .metadata()
            .registerBroker(new BrokerInfo(id, "127.0.0.1", 9000 + id, 1, "", true))
            .get(30, TimeUnit.SECONDS);
      }
      // Large entries fill Raft log segments fast: only whole closed segments are purged.
      final String padding = "h".repeat(2_000);
      for (int i = 0; i < 40; i++) {
        cluster
            .node(1)
            .metadata()
            .registerBroker(new BrokerInfo(3, padding, 9003, 1, "", true))
            .get(30, TimeUnit.SECONDS);
      }
      long firstId = 0;
      for (int i = 0; i < 10; i++) {
        firstId = cluster.node(1).metadata().allocateProducerIds(10).get(30, TimeUnit.SECONDS);
      }
      AWAIT.until(
          "every voter purged its metadata log behind a snapshot", () -> purgedByAll(cluster));

      cluster.node(4).startMetadata(cluster.peers(1, 2, 3), cluster.peers(4));
      cluster.node(4).metadataListeners().join(cluster.node(4).self(), WAIT);
      AWAIT.until(
          "broker 4 has the brokers registered before it joined",
          () -> cluster.node(4).metadata().image().brokers().size() == 3);
      final long next =
          cluster.node(4).metadata().allocateProducerIds(10).get(30, TimeUnit.SECONDS);
      assertThat(next)
          .as("producer ids continue after the installed state")
          .isEqualTo(firstId + 10);
      cluster
          .node(4)
          .metadata()
          .registerBroker(new BrokerInfo(4, "127.0.0.1", 9004, 1, "", true))
          .get(30, TimeUnit.SECONDS);
      assertThat(cluster.node(4).metadata().image().brokers()).containsOnlyKeys(1, 2, 3, 4);
    }
  }

  private static boolean purgedByAll(RaftCluster cluster) {
    for (int id = 1; id <= 3; id++) {
      try {
        if (cluster
                .node(id)
                .server()
                .getDivision(RaftNode.METADATA_GROUP)
                .getRaftLog()
                .getStartIndex()
            <= 0) {
          return false;
        }
      } catch (java.io.IOException e) {
        return false;
      }
    }
    return true;
  }

  /**
   * Joins on a thread of its own: not the common pool, whose one worker on a 2-core machine Ratis'
   * servers also answer group-info requests on, so a join blocked there waits for itself.
   */
  private static CompletableFuture<Void> joinAsync(RaftCluster cluster, int id) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            cluster.node(id).metadataListeners().join(cluster.node(id).self(), WAIT);
          } catch (Exception e) {
            throw new IllegalStateException("broker " + id + " did not join", e);
          }
        },
        task -> new Thread(task, "join-" + id).start());
  }

  private static boolean everyoneSees(RaftCluster cluster, List<Integer> listeners) {
    for (int id = 1; id <= 3; id++) {
      try {
        if (!cluster.node(id).metadataListeners().listeners().equals(listeners)) {
          return false;
        }
      } catch (java.io.IOException e) {
        return false;
      }
    }
    return true;
  }
}
