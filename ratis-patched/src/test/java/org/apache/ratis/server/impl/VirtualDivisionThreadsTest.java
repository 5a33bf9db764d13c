package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Checks Skiff's Ratis patch (raft.server.threadpool.virtual): with the key on, a division's
 * daemons and executors are virtual threads; with it off (Ratis' default), they are platform
 * threads as in released Ratis. Three real servers over gRPC on loopback, one group, so that the
 * group has a leader (leader state, log appenders) and followers (follower state).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class VirtualDivisionThreadsTest {
  /** Name parts of the threads Ratis starts per division. */
  private static final List<String> DIVISION_DAEMONS =
      List.of(
          "StateMachineUpdater",
          "SegmentedRaftLogWorker",
          "cacheEviction",
          "FollowerState",
          "LeaderStateImpl",
          "LogAppenderDaemon");

  private final Set<Boolean> appliedOnVirtualThread = ConcurrentHashMap.newKeySet();
  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();
  private LoopbackGroup servers;

  @Test
  void divisionDaemonsAreVirtualThreadsWhenSelected() throws Exception {
    final RaftGroup group = startGroup(true);
    replicateOneEntry();

    assertThat(platformThreadNames(group))
        .as("platform threads of the division")
        .noneMatch(name -> DIVISION_DAEMONS.stream().anyMatch(name::contains));
    final String dump = threadDumpWithVirtualThreads();
    for (String daemon : DIVISION_DAEMONS) {
      assertThat(dump).as("thread dump").contains(daemon);
    }
    assertThat(appliedOnVirtualThread).containsExactly(true);
  }

  @Test
  void divisionDaemonsArePlatformThreadsByDefault() throws Exception {
    final RaftGroup group = startGroup(false);
    replicateOneEntry();

    final List<String> names = platformThreadNames(group);
    for (String daemon : DIVISION_DAEMONS) {
      assertThat(names).as("platform threads").anyMatch(name -> name.contains(daemon));
    }
    assertThat(appliedOnVirtualThread).containsExactly(false);
  }

  private RaftGroup startGroup(boolean virtual) throws IOException {
    servers =
        groups.start(
            3,
            p -> {
              if (virtual) {
                RaftServerConfigKeys.ThreadPool.setVirtual(p, true);
              }
            },
            RecordingStateMachine::new);
    return servers.group();
  }

  /** Through the leader, so the group has a leader with log appenders and two followers. */
  private void replicateOneEntry() throws IOException {
    try (RaftClient client = servers.newClient()) {
      final RaftClientReply reply = client.io().send(Message.valueOf("entry"));
      assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
    }
  }

  private static List<String> platformThreadNames(RaftGroup group) {
    final String groupId = group.getGroupId().getUuid().toString();
    return Thread.getAllStackTraces().keySet().stream()
        .map(Thread::getName)
        .filter(name -> name.toLowerCase().contains(groupId.substring(groupId.length() - 12)))
        .collect(Collectors.toList());
  }

  /** {@link Thread#getAllStackTraces()} lists platform threads only; this dump has both. */
  private String threadDumpWithVirtualThreads() throws IOException {
    final Path file = servers.root().resolve("threads.json");
    ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
        .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  /** Records whether committed entries are applied on a virtual thread. */
  private final class RecordingStateMachine extends BaseStateMachine {
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      appliedOnVirtualThread.add(Thread.currentThread().isVirtual());
      updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
  }
}
