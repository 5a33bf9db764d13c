package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Checks Skiff's Ratis patch raft.grpc.server.executor.virtual: with the key on, the callbacks of
 * the calls a server serves and of the calls it makes to its peers run on virtual threads of its
 * own executor; with it off (Ratis' default), on gRPC's shared cached executor, as in released
 * Ratis. Three real servers over gRPC on loopback, one group, linearizable reads.
 *
 * <p>Two places where Ratis calls the state machine on the thread of a gRPC callback show it:
 *
 * <ul>
 *   <li>a follower learns its leader from the first AppendEntries request, which its gRPC server
 *       hands to Ratis on a call executor thread: {@code notifyLeaderChanged} runs there;
 *   <li>a linearizable read sent to a follower that has applied everything asks the leader for the
 *       read index over the follower's channel; the reply's callback, on the channel's executor,
 *       completes the read: {@code query} runs there.
 * </ul>
 *
 * <p>A read can also complete elsewhere, and then says nothing about the channel's executor: on the
 * follower's client-request thread when the leader's reply arrived before the follower chained its
 * continuation, or on its state-machine updater when the read index was ahead of what the follower
 * had applied. The test reads until two reads completed on a callback thread, and checks that no
 * read ran on a callback thread of the other kind.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GrpcCallExecutorTest {
  private static final String GRPC_DEFAULT_EXECUTOR = "grpc-default-executor-";
  private static final Predicate<String> SERVER_EXECUTOR =
      t -> t.matches("s\\d-grpc-executor-\\d+ virtual");
  private static final Predicate<String> SHARED_EXECUTOR =
      t -> t.startsWith(GRPC_DEFAULT_EXECUTOR) && t.endsWith(" platform");

  /** Threads a read completes on when its read index reply was not the last step to finish. */
  private static final Predicate<String> NOT_A_CALLBACK =
      t ->
          t.matches("s\\d-client-thread\\d+ (virtual|platform)")
              || t.contains("-StateMachineUpdater ");

  private static final int CALLBACK_READS = 2;
  private static final int MAX_READ_ROUNDS = 50;

  /** "name virtual|platform" of each thread the recorded callbacks ran on. */
  private final Queue<String> serverCallThreads = new ConcurrentLinkedQueue<>();

  private final Queue<String> channelCallThreads = new ConcurrentLinkedQueue<>();
  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();
  private LoopbackGroup servers;

  @Test
  void callsRunOnVirtualThreadsOfTheServerWhenSelected() throws Exception {
    startGroupAndReadFromFollowers(true, SERVER_EXECUTOR);

    assertThat(serverCallThreads).as("threads of served calls").isNotEmpty();
    assertThat(List.copyOf(serverCallThreads))
        .as("threads of served calls")
        .allMatch(SERVER_EXECUTOR);
    assertThat(List.copyOf(channelCallThreads))
        .as("threads of calls to peers")
        .filteredOn(SERVER_EXECUTOR)
        .hasSizeGreaterThanOrEqualTo(CALLBACK_READS);
    assertThat(List.copyOf(channelCallThreads))
        .as("threads of calls to peers")
        .allMatch(SERVER_EXECUTOR.or(NOT_A_CALLBACK));
  }

  @Test
  void callsRunOnGrpcsSharedExecutorByDefault() throws Exception {
    startGroupAndReadFromFollowers(false, SHARED_EXECUTOR);

    assertThat(serverCallThreads).as("threads of served calls").isNotEmpty();
    assertThat(List.copyOf(serverCallThreads))
        .as("threads of served calls")
        .allMatch(SHARED_EXECUTOR);
    assertThat(List.copyOf(channelCallThreads))
        .as("threads of calls to peers")
        .filteredOn(SHARED_EXECUTOR)
        .hasSizeGreaterThanOrEqualTo(CALLBACK_READS);
    assertThat(List.copyOf(channelCallThreads))
        .as("threads of calls to peers")
        .allMatch(SHARED_EXECUTOR.or(NOT_A_CALLBACK));
  }

  /**
   * Starts the group, writes one entry through the leader, waits until both followers have applied
   * it and sends linearizable reads to each follower until {@link #CALLBACK_READS} of them ran on a
   * thread {@code callback} accepts (or {@link #MAX_READ_ROUNDS} rounds passed).
   */
  private void startGroupAndReadFromFollowers(boolean virtual, Predicate<String> callback)
      throws Exception {
    servers =
        groups.start(
            3,
            p -> {
              RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
              if (virtual) {
                GrpcConfigKeys.Server.setExecutorVirtual(p, true);
              }
            },
            RecordingStateMachine::new);
    try (RaftClient client = servers.newClient()) {
      final RaftClientReply written = client.io().send(Message.valueOf("entry"));
      assertThat(written.isSuccess()).as("reply %s", written).isTrue();
      final long applied = division(written.getServerId()).getInfo().getLastAppliedIndex();
      for (RaftServer server : servers.servers()) {
        if (!server.getId().equals(written.getServerId())) {
          awaitApplied(division(server.getId()), applied);
        }
      }
      for (int round = 0;
          round < MAX_READ_ROUNDS
              && channelCallThreads.stream().filter(callback).count() < CALLBACK_READS;
          round++) {
        for (RaftServer server : servers.servers()) {
          if (!server.getId().equals(written.getServerId())) {
            final RaftClientReply read =
                client.io().sendReadOnly(Message.valueOf("read"), server.getId());
            assertThat(read.isSuccess()).as("read from %s: %s", server.getId(), read).isTrue();
          }
        }
      }
    }
  }

  private RaftServer.Division division(RaftPeerId peer) throws IOException {
    for (RaftServer server : servers.servers()) {
      if (server.getId().equals(peer)) {
        return server.getDivision(servers.group().getGroupId());
      }
    }
    throw new IllegalArgumentException("no server " + peer);
  }

  private static void awaitApplied(RaftServer.Division follower, long index)
      throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (follower.getInfo().getLastAppliedIndex() < index) {
      assertThat(System.nanoTime())
          .as("%s applies index %d within 60 s", follower.getMemberId(), index)
          .isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private static String currentThread() {
    final Thread t = Thread.currentThread();
    return t.getName() + (t.isVirtual() ? " virtual" : " platform");
  }

  /** Records the threads of followers' leader changes and of queries. */
  private final class RecordingStateMachine extends BaseStateMachine {
    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId leader) {
      if (!member.getPeerId().equals(leader)) {
        serverCallThreads.add(currentThread());
      }
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
      channelCallThreads.add(currentThread());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
  }
}
