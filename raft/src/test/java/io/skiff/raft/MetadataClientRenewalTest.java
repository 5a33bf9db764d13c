package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataService;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.protocol.RaftGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ratis closes a client's request window for good after a failure it does not retry (a voter that
 * has not added the metadata group yet answers GroupMismatchException while a cluster starts): the
 * metadata service then goes on through a new client instead of failing every later change.
 */
class MetadataClientRenewalTest {
  @TempDir Path dir;

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aChangeAfterTheClientWasClosedGoesThroughANewClient() throws Exception {
    try (RaftCluster cluster = new RaftCluster(dir, 3, c -> c)) {
      for (int id = 1; id <= 3; id++) {
        cluster.node(id).startMetadata(cluster.peers(1, 2, 3), List.of());
      }
      final RaftGroup group = RaftGroup.valueOf(RaftNode.METADATA_GROUP, cluster.peers(1, 2, 3));
      final Deque<RaftClient> built = new ArrayDeque<>();
      try (MetadataService service =
          new MetadataService(
              cluster.node(1).metadataImages(),
              () -> {
                final RaftClient client =
                    RaftClient.newBuilder()
                        .setRaftGroup(group)
                        .setProperties(RatisProperties.client(RaftCluster.testRpcType()))
                        .setParameters(new Parameters())
                        .setRetryPolicy(MetadataService.retryPolicy())
                        .build();
                built.add(client);
                return client;
              })) {
        built.getFirst().close(); // as Ratis leaves a client whose window a failure closed

        assertThatThrownBy(() -> register(service, 1))
            .as("the change sent through the closed client fails")
            .isInstanceOf(ExecutionException.class);
        register(service, 1);

        assertThat(built).as("clients built: the first and its replacement").hasSize(2);
        assertThat(service.image().broker(1)).as("the second change was applied").isPresent();
      }
    }
  }

  private static void register(MetadataService service, int id) throws Exception {
    service
        .registerBroker(new BrokerInfo(id, "127.0.0.1", 9000 + id, 9100 + id, "", true))
        .get(60, TimeUnit.SECONDS);
  }
}
