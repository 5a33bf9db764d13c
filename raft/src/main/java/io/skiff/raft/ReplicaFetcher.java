package io.skiff.raft;

import io.skiff.log.SegmentedLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a follower whose log is behind the leader's purged Raft log up to the leader's latest
 * snapshot point, by pulling whole batches from the leader's partition log into bounded buffers and
 * appending them to its own.
 *
 * <p>Memory is bounded three ways, as in Kafka: at most {@code replica.fetch.max.bytes} (1 MiB) per
 * partition per request, at most {@code replica.fetch.response.max.bytes} (10 MiB) per response,
 * and one global cap on the bytes buffered by all fetches of this broker; a fetch waits for buffer
 * space before it asks. {@link #bufferedBytes()} and {@link #peakBufferedBytes()} are the gauges.
 *
 * <p>The producer state of the copied range is rebuilt from the fetched batch headers, so the
 * replica de-duplicates producer retries correctly if it becomes leader.
 *
 * <p>Transport: a read-only Raft query to the group's leader ({@code FETCH}), served from its
 * partition log below its high watermark. Threads: a fixed pool named {@code
 * skiff-replica-fetcher-N}, owned and stopped by this object. Thread-safe.
 */
public final class ReplicaFetcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaFetcher.class);

  private final ReplicaFetchConfig config;
  private final RaftProperties clientProperties;
  private final Parameters parameters;
  private final RaftServer server;
  private final Semaphore buffer;
  private final AtomicLong bufferedBytes = new AtomicLong();
  private final AtomicLong peakBufferedBytes = new AtomicLong();
  private final AtomicLong fetchedBytes = new AtomicLong();
  private final AtomicInteger activeCatchUps = new AtomicInteger();
  private final ExecutorService executor;

  ReplicaFetcher(
      ReplicaFetchConfig config,
      RaftServer server,
      RaftProperties clientProperties,
      Parameters parameters) {
    this.config = config;
    this.server = server;
    this.clientProperties = clientProperties;
    this.parameters = parameters;
    this.buffer = new Semaphore(config.globalMaxBytes());
    final AtomicInteger ids = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            config.threads(),
            r -> {
              final Thread t = new Thread(r, "skiff-replica-fetcher-" + ids.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** Bytes held in fetch buffers right now (a gauge). */
  public long bufferedBytes() {
    return bufferedBytes.get();
  }

  /** The most ever held at once (a gauge); never above the global cap. */
  public long peakBufferedBytes() {
    return peakBufferedBytes.get();
  }

  /** Bytes fetched and appended since start (a counter). */
  public long fetchedBytes() {
    return fetchedBytes.get();
  }

  /** Catch-ups in progress (a gauge). */
  public int activeCatchUps() {
    return activeCatchUps.get();
  }

  public ReplicaFetchConfig config() {
    return config;
  }

  /**
   * Copies the leader's log up to its latest snapshot point into {@code machine}'s log.
   *
   * @return the point reached, which the caller adopts as its snapshot
   */
  CompletableFuture<PartitionRequest.SnapshotPoint> catchUp(
      PartitionStateMachine machine, RaftGroupId groupId) {
    return CompletableFuture.supplyAsync(
        () -> {
          activeCatchUps.incrementAndGet();
          try (RaftClient leader = clientFor(groupId)) {
            return copyFromLeader(machine, leader);
          } catch (IOException e) {
            throw new UncheckedIOException(machine.partition() + ": catch-up failed", e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(machine.partition() + ": catch-up interrupted", e);
          } finally {
            activeCatchUps.decrementAndGet();
          }
        },
        executor);
  }

  private PartitionRequest.SnapshotPoint copyFromLeader(
      PartitionStateMachine machine, RaftClient leader) throws IOException, InterruptedException {
    final PartitionRequest.SnapshotPoint point =
        PartitionRequest.parseSnapshotPoint(ask(leader, PartitionRequest.snapshotPoint()));
    final SegmentedLog log = machine.log();
    long offset = startOffset(machine, log, point);
    final long startedAt = offset;
    while (offset < point.highWatermark()) {
      final int maxBytes = config.requestMaxBytes();
      acquire(maxBytes);
      try {
        final ByteString batches =
            ask(leader, PartitionRequest.fetch(offset, maxBytes, point.highWatermark()));
        if (batches.isEmpty()) {
          throw new IOException(
              machine.partition() + ": leader returned no batches at offset " + offset);
        }
        offset = log.append(batches.asReadOnlyByteBuffer()).nextOffset();
        machine.fetchedFromLeader(batches.asReadOnlyByteBuffer());
        fetchedBytes.addAndGet(batches.size());
      } finally {
        release(maxBytes);
      }
    }
    if (log.logStartOffset() < point.logStartOffset()) {
      // DeleteRecords entries behind the leader's purge point never reach this replica.
      log.deleteRecordsBefore(point.logStartOffset());
    }
    LOG.info(
        "{}: caught up from offset {} to {} (snapshot index {})",
        machine.partition(),
        startedAt,
        offset,
        point.index());
    return point;
  }

  /** Where to start copying: after our committed data, or afresh where the leader's log starts. */
  private static long startOffset(
      PartitionStateMachine machine, SegmentedLog log, PartitionRequest.SnapshotPoint point)
      throws IOException {
    final long committed = machine.highWatermark();
    if (log.logEndOffset() > committed && committed >= log.logStartOffset()) {
      log.truncateTo(committed);
    }
    if (log.logEndOffset() < point.logStartOffset() || log.logEndOffset() > point.highWatermark()) {
      log.truncateFullyAndStartAt(point.logStartOffset());
      machine.logRestartedForCatchUp();
    }
    return log.logEndOffset();
  }

  private ByteString ask(RaftClient leader, org.apache.ratis.protocol.Message message)
      throws IOException {
    final RaftClientReply reply = leader.io().sendReadOnly(message);
    if (!reply.isSuccess()) {
      throw new IOException("leader query failed: " + reply.getException(), reply.getException());
    }
    return reply.getMessage().getContent();
  }

  private void acquire(int bytes) throws InterruptedException {
    if (!buffer.tryAcquire(bytes, 5, TimeUnit.MINUTES)) {
      throw new IllegalStateException(
          "replica fetch buffer stayed full for 5 minutes; raise replica.fetch.buffer.max.bytes");
    }
    final long now = bufferedBytes.addAndGet(bytes);
    peakBufferedBytes.accumulateAndGet(now, Math::max);
  }

  private void release(int bytes) {
    bufferedBytes.addAndGet(-bytes);
    buffer.release(bytes);
  }

  private RaftClient clientFor(RaftGroupId groupId) throws IOException {
    final RaftGroup group = server.getDivision(groupId).getGroup();
    return RaftClient.newBuilder()
        .setRaftGroup(group)
        .setProperties(clientProperties)
        .setParameters(parameters)
        .build();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
