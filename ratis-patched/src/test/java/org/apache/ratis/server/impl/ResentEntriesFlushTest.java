package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Patch 0029: a follower sent entries again (a leader's retry after a timeout or a lost connection,
 * or a pipelined appender's resend) while the first copy is not yet flushed does not write them
 * again, and does not acknowledge them before that first copy is flushed. Released Ratis answered
 * such a request at once, so a leader could count a replica whose copy was still in the page cache
 * toward an {@code acks=all} commit.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ResentEntriesFlushTest {
  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();

  @AfterEach
  void stopRecording() {
    CodeInjectionForTesting.remove(RaftServerImpl.APPEND_ENTRIES);
  }

  @Test
  void aResentRequestIsAnsweredOnlyOnceTheFirstCopyIsFlushed() throws Exception {
    final LoopbackGroup servers =
        groups.start(
            SupportedRpcType.NETTY,
            3,
            p -> {
              RaftServerConfigKeys.ThreadPool.setVirtual(p, true);
              NettyConfigKeys.Server.setHandlerVirtual(p, true);
              // As Skiff runs it: composed appends would wait for the first copy's append anyway.
              RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
              RaftServerConfigKeys.Rpc.setRequestTimeout(
                  p, TimeDuration.valueOf(60, TimeUnit.SECONDS));
            },
            GatedFlushStateMachine::new);
    servers.writeAll(1, 1, 1);
    final RaftServer.Division leader = PipelinedAppendEntriesTest.leader(servers);
    final RaftServer.Division slow = PipelinedAppendEntriesTest.followers(servers, leader).get(0);
    PipelinedAppendEntriesTest.awaitTrue(
        () -> slow.getRaftLog().getFlushIndex() >= leader.getRaftLog().getLastCommittedIndex(),
        "the follower flushed what the leader committed");

    final AtomicReference<AppendEntriesRequestProto> sent = new AtomicReference<>();
    CodeInjectionForTesting.put(
        RaftServerImpl.APPEND_ENTRIES,
        (localId, remoteId, args) -> {
          final AppendEntriesRequestProto request = (AppendEntriesRequestProto) args[1];
          if (slow.getId().equals(localId) && request.getEntriesCount() > 0) {
            sent.set(request);
          }
          return false;
        });
    final CompletableFuture<Void> gate = new CompletableFuture<>();
    ((GatedFlushStateMachine) slow.getStateMachine()).gate = gate;
    try (RaftClient client = servers.newClient()) {
      final RaftClientReply reply = client.io().send(Message.valueOf("resent"));
      assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
    }
    PipelinedAppendEntriesTest.awaitTrue(
        () -> sent.get() != null, "an AppendEntries reached the follower");
    final long index = sent.get().getEntries(sent.get().getEntriesCount() - 1).getIndex();
    PipelinedAppendEntriesTest.awaitTrue(
        () -> slow.getRaftLog().getLastEntryTermIndex().getIndex() >= index,
        () -> "the follower has entry " + index + " in its log");
    assertThat(slow.getRaftLog().getFlushIndex()).as("flush index").isLessThan(index);

    final RaftServer slowServer = slow.getRaftServer();
    final CompletableFuture<AppendEntriesReplyProto> again =
        slowServer.appendEntriesAsync(sent.get());
    Thread.sleep(500);
    assertThat(again).as("the resent request's reply before the flush").isNotDone();

    gate.complete(null);
    final AppendEntriesReplyProto reply = again.get(30, TimeUnit.SECONDS);
    assertThat(reply.getResult()).isEqualTo(AppendResult.SUCCESS);
    assertThat(reply.getMatchIndex()).isEqualTo(index);
    assertThat(slow.getRaftLog().getFlushIndex()).as("flush index").isGreaterThanOrEqualTo(index);
  }
}
