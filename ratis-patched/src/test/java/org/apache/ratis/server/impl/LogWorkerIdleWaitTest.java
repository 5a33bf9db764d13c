package org.apache.ratis.server.impl;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checks Skiff's Ratis patch (raft.server.log.worker.idle-wait): with the log worker's idle wait
 * set to an hour, or to zero (no timeout at all, as Skiff runs it: patch 0013), so that only a task
 * or {@code close()} wakes it, every write is answered, every server's log is flushed to its last
 * entry while the group is idle, a restarted server has every entry, and closing the servers stops
 * their log workers at once. Released Ratis polled the queue every second, and only that poll let
 * {@code close()} stop the worker: with a long wait, close gave up after its 3 s shutdown timeout
 * and left the worker parked until the wait ran out. Virtual division threads, as Skiff runs them.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LogWorkerIdleWaitTest {
  private static final int ONE_BY_ONE = 200;
  private static final int WRITES = 1000;
  private static final int IN_FLIGHT = 16;

  /** What released Ratis' close waits for the worker before it gives up, per division. */
  private static final int WORKER_SHUTDOWN_TIMEOUT_SECONDS = 3;

  @RegisterExtension final LoopbackGroups groups = new LoopbackGroups();
  private LoopbackGroup servers;

  @ParameterizedTest(name = "idle wait {0} s")
  @ValueSource(longs = {3600, 0})
  void writesAreFlushedAndClosingStopsTheWorkersWithoutAPoll(long idleWaitSeconds)
      throws Exception {
    final TimeDuration idleWait = TimeDuration.valueOf(idleWaitSeconds, TimeUnit.SECONDS);
    servers =
        groups.start(
            3,
            p -> {
              RaftServerConfigKeys.ThreadPool.setVirtual(p, true);
              RaftServerConfigKeys.Log.setWorkerIdleWait(p, idleWait);
            },
            AcceptingStateMachine::new);
    // One at a time (the worker is idle when each arrives), then up to IN_FLIGHT at a time.
    servers.writeAll(ONE_BY_ONE, WRITES, IN_FLIGHT);
    final long last = awaitEveryLogFlushedToOneLastEntry();
    if (idleWaitSeconds == 0) {
      LoopbackGroup.assertIdleDaemonsPark();
    }

    final long closing = System.nanoTime();
    servers.closeServers();
    final long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing);
    assertNoLogWorkerLeftWithin(TimeUnit.SECONDS.toNanos(10));
    assertThat(closeMillis)
        .as("milliseconds to close the three servers")
        .isLessThan(TimeUnit.SECONDS.toMillis(3 * WORKER_SHUTDOWN_TIMEOUT_SECONDS));

    // One server at a time, so no leader can resend it anything: what its log has is on disk.
    for (RaftPeer peer : servers.group().getPeers()) {
      final RaftServer restarted = servers.restart(peer.getId(), new AcceptingStateMachine());
      final RaftLog log = restarted.getDivision(servers.group().getGroupId()).getRaftLog();
      assertThat(log.getLastEntryTermIndex().getIndex())
          .as("last entry of %s", peer)
          .isEqualTo(last);
      servers.closeServers();
    }
  }

  /**
   * Waits until every server's log has the same last entry and has flushed it: no task arrives
   * after the last write, so nothing but the write itself may have flushed it.
   *
   * @return the index of that entry
   */
  private long awaitEveryLogFlushedToOneLastEntry() throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (; ; ) {
      long last = -1;
      boolean flushed = true;
      for (RaftServer server : servers.servers()) {
        final RaftLog log = server.getDivision(servers.group().getGroupId()).getRaftLog();
        final long index = log.getLastEntryTermIndex().getIndex();
        flushed &= (last == -1 || index == last) && log.getFlushIndex() == index;
        last = Math.max(last, index);
      }
      if (flushed) {
        assertThat(last).as("last log index").isGreaterThanOrEqualTo(WRITES);
        return last;
      }
      assertThat(System.nanoTime())
          .as("every log flushed to one last entry within 30 s")
          .isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  /** The group's log worker threads, virtual ones included, end once their servers are closed. */
  private void assertNoLogWorkerLeftWithin(long nanos) throws Exception {
    final String uuid = servers.group().getGroupId().getUuid().toString();
    final String worker =
        (uuid.substring(uuid.length() - 12) + "-SegmentedRaftLogWorker").toLowerCase(Locale.ROOT);
    final long deadline = System.nanoTime() + nanos;
    while (threadDumpWithVirtualThreads().contains(worker) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(threadDumpWithVirtualThreads()).as("thread dump after close").doesNotContain(worker);
  }

  /** {@link Thread#getAllStackTraces()} lists platform threads only; this dump has both. */
  private String threadDumpWithVirtualThreads() throws IOException {
    final Path file = Files.createTempFile(servers.root(), "threads", ".json");
    Files.delete(file);
    ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
        .dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
    return Files.readString(file, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
  }
}
