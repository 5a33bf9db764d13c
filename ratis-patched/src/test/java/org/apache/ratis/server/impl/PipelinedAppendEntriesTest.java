package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Patch 0028 over the Netty transport, as Skiff runs it (virtual division threads, requests handled
 * off the event loop): with {@code raft.server.log.appender.outstanding.max} above 1 a leader keeps
 * sending AppendEntries to a follower whose flush does not finish, that follower hands a group's
 * requests to its log in the order they were sent, and every server applies every entry in order.
 * With the default of 1 the leader waits for each reply, which the first test shows as well.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PipelinedAppendEntriesTest {
  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();

  /**
   * Per server, each AppendEntries with entries as its log got it: previous, first and last index.
   */
  private final Map<RaftPeerId, Queue<long[]>> received = new ConcurrentHashMap<>();

  @BeforeEach
  void recordAppendEntries() {
    CodeInjectionForTesting.put(
        RaftServerImpl.APPEND_ENTRIES,
        (localId, remoteId, args) -> {
          final TermIndex previous = (TermIndex) args[0];
          final AppendEntriesRequestProto request = (AppendEntriesRequestProto) args[1];
          final int count = request.getEntriesCount();
          if (count > 0) {
            received
                .computeIfAbsent((RaftPeerId) localId, id -> new ConcurrentLinkedQueue<>())
                .add(
                    new long[] {
                      previous == null ? -1 : previous.getIndex(),
                      request.getEntries(0).getIndex(),
                      request.getEntries(count - 1).getIndex()
                    });
          }
          return false;
        });
  }

  @AfterEach
  void stopRecording() {
    CodeInjectionForTesting.remove(RaftServerImpl.APPEND_ENTRIES);
  }

  @ParameterizedTest(name = "outstanding.max={0}")
  @ValueSource(ints = {1, 8})
  void aFollowerWhoseFlushHangsIsSentTheEntriesThatFollow(int outstandingMax) throws Exception {
    final LoopbackGroup servers = start(outstandingMax);
    servers.writeAll(1, 1, 1);
    final RaftServer.Division leader = leader(servers);
    final RaftServer.Division slow = followers(servers, leader).get(0);
    awaitTrue(
        () -> slow.getRaftLog().getFlushIndex() >= leader.getRaftLog().getLastCommittedIndex(),
        "the follower flushed what the leader committed");
    final Queue<long[]> toSlow =
        received.computeIfAbsent(slow.getId(), id -> new ConcurrentLinkedQueue<>());
    toSlow.clear();

    final GatedFlushStateMachine slowMachine = (GatedFlushStateMachine) slow.getStateMachine();
    final CompletableFuture<Void> gate = new CompletableFuture<>();
    slowMachine.gate = gate;
    final long firstGated = leader.getRaftLog().getLastEntryTermIndex().getIndex() + 1;
    try (RaftClient client = servers.newClient()) {
      for (int i = 0; i < 4; i++) {
        // Committed by the leader and the other follower.
        final RaftClientReply reply = client.io().send(Message.valueOf("gated " + i));
        assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
      }
    }
    // Every entry written since the gate closed (the leader adds one with the commit index too).
    final long lastGated = leader.getRaftLog().getLastCommittedIndex();
    if (outstandingMax > 1) {
      awaitTrue(
          () -> slow.getRaftLog().getLastEntryTermIndex().getIndex() >= lastGated,
          () ->
              "the follower has entries up to "
                  + lastGated
                  + " (it has "
                  + slow.getRaftLog().getLastEntryTermIndex()
                  + ", flushed "
                  + slow.getRaftLog().getFlushIndex()
                  + "): "
                  + describe(toSlow));
      assertThat(toSlow.size()).as("AppendEntries that reached the follower").isGreaterThan(1);
    } else {
      Thread.sleep(1_000);
      assertThat(toSlow)
          .as("AppendEntries that reached the follower: %s", describe(toSlow))
          .hasSize(1);
      assertThat(slow.getRaftLog().getLastEntryTermIndex().getIndex())
          .as("the follower's last entry")
          .isLessThan(lastGated);
    }
    assertThat(slow.getRaftLog().getFlushIndex())
        .as("the follower's flush index while its flush hangs")
        .isLessThan(firstGated);
    assertHandedOverInOrder(toSlow);

    gate.complete(null);
    awaitAllApplied(servers, leader);
  }

  @Test
  void everyServerAppliesEveryEntryInOrderWithManyInFlight() throws Exception {
    final LoopbackGroup servers = start(8);
    servers.writeAll(10, 600, 32);
    final RaftServer.Division leader = leader(servers);
    awaitAllApplied(servers, leader);
    final List<String> expected = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      expected.add("entry " + i);
    }
    assertThat(((GatedFlushStateMachine) leader.getStateMachine()).applied)
        .containsExactlyInAnyOrderElementsOf(expected);
    for (RaftServer.Division follower : followers(servers, leader)) {
      assertHandedOverInOrder(received.get(follower.getId()));
    }
  }

  private LoopbackGroup start(int outstandingMax) throws Exception {
    return groups.start(
        SupportedRpcType.NETTY, 3, p -> configure(p, outstandingMax), GatedFlushStateMachine::new);
  }

  private static void configure(RaftProperties p, int outstandingMax) {
    RaftServerConfigKeys.ThreadPool.setVirtual(p, true);
    NettyConfigKeys.Server.setHandlerVirtual(p, true);
    RaftServerConfigKeys.Log.Appender.setOutstandingMax(p, outstandingMax);
    // As Skiff runs it: released Ratis' default composes a follower's appends, each after the
    // previous one's flush, which would hold every request behind the hanging flush.
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // A follower's flush hangs for a while in the first test: no timeout meanwhile.
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(60, TimeUnit.SECONDS));
  }

  private static String describe(Queue<long[]> requests) {
    final StringBuilder b = new StringBuilder();
    for (long[] r : requests) {
      b.append(" (previous ")
          .append(r[0])
          .append(": ")
          .append(r[1])
          .append("..")
          .append(r[2])
          .append(')');
    }
    return b.toString();
  }

  /** Each request of a follower's log starts right after the one before it, or resends entries. */
  private static void assertHandedOverInOrder(Queue<long[]> requests) {
    assertThat(requests).as("AppendEntries received").isNotNull().isNotEmpty();
    long[] before = null;
    for (long[] r : requests) {
      if (before != null) {
        assertThat(r[0])
            .as("previous index of [%d, %d] after [%d, %d]", r[1], r[2], before[1], before[2])
            .isLessThanOrEqualTo(before[2]);
      }
      before = r;
    }
  }

  /** Waits until every server applied the leader's last entry, then compares what they applied. */
  private static void awaitAllApplied(LoopbackGroup servers, RaftServer.Division leader)
      throws Exception {
    final long last = leader.getRaftLog().getLastEntryTermIndex().getIndex();
    for (RaftServer server : servers.servers()) {
      final RaftServer.Division division = servers.division(server);
      awaitTrue(
          () -> division.getInfo().getLastAppliedIndex() >= last,
          division.getMemberId() + " applied index " + last);
    }
    final List<String> applied =
        List.copyOf(((GatedFlushStateMachine) leader.getStateMachine()).applied);
    for (RaftServer server : servers.servers()) {
      final GatedFlushStateMachine machine =
          (GatedFlushStateMachine) servers.division(server).getStateMachine();
      assertThat(machine.applied)
          .as("applied by %s", server.getId())
          .containsExactlyElementsOf(applied);
    }
  }

  static RaftServer.Division leader(LoopbackGroup servers) throws Exception {
    for (RaftServer server : servers.servers()) {
      final RaftServer.Division division = servers.division(server);
      if (division.getInfo().isLeader()) {
        return division;
      }
    }
    throw new AssertionError("no leader");
  }

  static List<RaftServer.Division> followers(LoopbackGroup servers, RaftServer.Division leader)
      throws Exception {
    final List<RaftServer.Division> followers = new ArrayList<>();
    for (RaftServer server : servers.servers()) {
      final RaftServer.Division division = servers.division(server);
      if (division != leader) {
        followers.add(division);
      }
    }
    return followers;
  }

  static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
    awaitTrue(condition, () -> what);
  }

  static void awaitTrue(BooleanSupplier condition, Supplier<String> what)
      throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what.get());
      }
      Thread.sleep(10);
    }
  }
}
