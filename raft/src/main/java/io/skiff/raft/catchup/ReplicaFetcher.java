package io.skiff.raft.catchup;

import io.skiff.log.FetchBuffer;
import io.skiff.log.RecordBatch;
import io.skiff.log.SegmentedLog;
import io.skiff.raft.membership.PartitionMembership;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.PartitionRequest;
import io.skiff.raft.partition.PartitionStateMachine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a follower whose log is behind the leader's purged Raft log up to the leader's latest
 * snapshot point, by pulling whole batches from the leader's partition log through a bounded {@link
 * FetchBuffer} and appending them to its own.
 *
 * <pre>
 *   skiff-replica-fetcher-N (one task per partition catching up)
 *     reserve fetch size ──FETCH query to the leader──▶ add batches to the FetchBuffer
 *   skiff-replica-applier (one thread)
 *     poll round-robin ──▶ append to that partition's log ──▶ release ──▶ done at the point
 * </pre>
 *
 * <p>Fetching the next chunk of a partition overlaps with appending the previous one. Memory is
 * bounded as in Kafka: at most {@code replica.fetch.max.bytes} (1 MiB) per partition per request,
 * at most {@code replica.fetch.response.max.bytes} (10 MiB) per response, and one global cap
 * ({@code replica.fetch.buffer.max.bytes}) on the bytes reserved and buffered by all catch-ups of
 * this broker; the fetch size adapts per partition (see {@link FetchBuffer}). {@link
 * #bufferedBytes()} and {@link #peakBufferedBytes()} are the gauges.
 *
 * <p>Throttle: a catch-up of a new replica (a listener joining through a move) pays for each chunk
 * from {@link #throttle()} before asking for it, so all such catch-ups on this broker together
 * fetch at most {@code follower.replication.throttled.rate} bytes per second; while it is set they
 * also start with a fresh leader snapshot, so that they, not Raft's AppendEntries, carry the bulk
 * (see {@link PartitionStateMachine#notifyInstallSnapshotFromLeader}).
 *
 * <p>The producer state of the copied range is rebuilt from the fetched batch headers, so the
 * replica de-duplicates producer retries correctly if it becomes leader.
 *
 * <p>Transport: a read-only Raft query to the group's leader ({@code FETCH}), served from its
 * partition log below its high watermark. Threads: the fetcher pool and the applier, owned and
 * stopped by this object. Thread-safe.
 */
public final class ReplicaFetcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaFetcher.class);
  private static final Duration BUFFER_WAIT = Duration.ofMinutes(5);
  private static final int MIN_FETCH_BYTES = 64 * 1024;
  private static final Duration SNAPSHOT_TIMEOUT = Duration.ofSeconds(30);

  /**
   * A query that keeps failing (no leader, a peer that left the group) fails the catch-up after
   * about ten seconds instead of retrying forever, Ratis' default: while the catch-up runs, Ratis
   * answers the leader's snapshot notifications itself ("in progress"), so a catch-up that never
   * ends would stall the replica for good. A failed one is started afresh on the next notification.
   */
  private static final RetryPolicy LEADER_RETRIES =
      RetryPolicies.retryUpToMaximumCountWithFixedSleep(
          40, TimeDuration.valueOf(250, TimeUnit.MILLISECONDS));

  private final ReplicaFetchConfig config;
  private final RaftProperties clientProperties;
  private final Parameters parameters;
  private final RaftServer server;
  private final FetchBuffer<PartitionId> buffer;
  private final ConcurrentHashMap<PartitionId, CatchUp> catchUps = new ConcurrentHashMap<>();
  private final AtomicLong fetchedBytes = new AtomicLong();
  private final AtomicLong throttledBytes = new AtomicLong();
  private final ByteRateLimiter throttle = new ByteRateLimiter();
  private final ExecutorService fetchers;
  private final Thread applier;
  private volatile boolean closed;

  public ReplicaFetcher(
      ReplicaFetchConfig config,
      RaftServer server,
      RaftProperties clientProperties,
      Parameters parameters) {
    this.config = config;
    this.server = server;
    this.clientProperties = clientProperties;
    this.parameters = parameters;
    this.buffer =
        new FetchBuffer<>(
            config.globalMaxBytes(),
            Math.min(MIN_FETCH_BYTES, config.requestMaxBytes()),
            config.requestMaxBytes());
    final AtomicInteger ids = new AtomicInteger();
    this.fetchers =
        Executors.newFixedThreadPool(
            config.threads(),
            r -> {
              final Thread t = new Thread(r, "skiff-replica-fetcher-" + ids.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.applier = new Thread(this::applyFetched, "skiff-replica-applier");
    this.applier.setDaemon(true);
    this.applier.start();
  }

  /** Bytes reserved or held in fetch buffers right now (a gauge). */
  public long bufferedBytes() {
    return buffer.usedBytes();
  }

  /** The most ever held at once (a gauge); not above the global cap but for one oversized batch. */
  public long peakBufferedBytes() {
    return buffer.peakBytes();
  }

  /** Bytes fetched and appended since start (a counter). */
  public long fetchedBytes() {
    return fetchedBytes.get();
  }

  /** Bytes fetched by throttled catch-ups (new replicas joining as listeners), a counter. */
  public long throttledBytes() {
    return throttledBytes.get();
  }

  /**
   * The broker's replication throttle ({@code follower.replication.throttled.rate}): it bounds the
   * bytes per second all catch-ups of new replicas on this broker fetch together.
   */
  public ByteRateLimiter throttle() {
    return throttle;
  }

  /** Catch-ups in progress (a gauge). */
  public int activeCatchUps() {
    return catchUps.size();
  }

  /** Whether the applier thread runs (a gauge: 1 alive, 0 dead). */
  public boolean applierAlive() {
    return applier.isAlive();
  }

  public ReplicaFetchConfig config() {
    return config;
  }

  /**
   * Copies the leader's log up to its latest snapshot point into {@code machine}'s log.
   *
   * @param throttled whether the catch-up obeys the {@link #throttle()}: a new replica of a move
   * @param freshSnapshot whether to have the leader take a snapshot first, so that the copy reaches
   *     its latest committed data rather than its last periodic snapshot
   * @return the point reached, which the caller adopts as its snapshot; a catch-up of the same
   *     partition already under way is joined
   */
  public CompletableFuture<PartitionRequest.SnapshotPoint> catchUp(
      PartitionStateMachine machine,
      RaftGroupId groupId,
      boolean throttled,
      boolean freshSnapshot) {
    final CatchUp fresh = new CatchUp(machine, throttled, freshSnapshot);
    final CatchUp running = catchUps.putIfAbsent(machine.partition(), fresh);
    if (running != null) {
      return running.machine == machine
          ? running.done
          : CompletableFuture.failedFuture(
              new IOException(
                  machine.partition()
                      + ": a catch-up of an earlier replica of this partition is still ending"));
    }
    fetchers.execute(() -> fetchFromLeader(fresh, groupId));
    return fresh.done;
  }

  /** Stops the catch-up of {@code machine}, if one runs: the replica is closing. */
  public void cancel(PartitionStateMachine machine) {
    final CatchUp running = catchUps.get(machine.partition());
    if (running != null && running.machine == machine) {
      fail(running, new IOException("the replica closed"));
    }
  }

  /** Fetcher task: asks the leader for chunk after chunk until its snapshot point. */
  private void fetchFromLeader(CatchUp catchUp, RaftGroupId groupId) {
    final PartitionId id = catchUp.machine.partition();
    try (RaftClient leader = clientFor(groupId)) {
      if (catchUp.freshSnapshot) {
        snapshotOnLeader(leader, groupId, id);
      }
      final ByteString reply = ask(leader, PartitionRequest.snapshotPoint());
      final PartitionRequest.SnapshotPoint point = PartitionRequest.parseSnapshotPoint(reply);
      long offset = startOffset(catchUp.machine, catchUp.machine.log(), point);
      catchUp.start(point, PartitionRequest.parseSnapshotProducerState(reply), offset);
      if (offset >= point.highWatermark()) {
        finish(catchUp);
        return;
      }
      while (offset < point.highWatermark() && !catchUp.done.isDone() && !closed) {
        final FetchBuffer.Reservation<PartitionId> reservation = buffer.reserve(id, BUFFER_WAIT);
        final ByteString batches;
        try {
          batches = fetchChunk(leader, catchUp, offset, reservation.bytes());
        } catch (IOException | RuntimeException | InterruptedException e) {
          buffer.cancel(reservation);
          throw e;
        }
        if (batches.isEmpty()) {
          buffer.cancel(reservation);
          throw new IOException(id + ": leader returned no batches at offset " + offset);
        }
        final ByteBuffer chunk = batches.asReadOnlyByteBuffer();
        offset = nextOffsetAfter(chunk);
        buffer.add(reservation, chunk);
      }
    } catch (IOException | TimeoutException | RuntimeException e) {
      fail(catchUp, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(catchUp, e);
    }
  }

  /**
   * Asks the leader for the batches from {@code offset}: a throttled catch-up first takes the bytes
   * from the {@link #throttle()} (at most an eighth of a second's worth per request), and gives
   * back what the reply did not use or pays for what it used beyond.
   */
  private ByteString fetchChunk(RaftClient leader, CatchUp catchUp, long offset, int maxBytes)
      throws IOException, InterruptedException {
    final long until = catchUp.point.highWatermark();
    if (!catchUp.throttled || !throttle.isLimited()) {
      return ask(leader, PartitionRequest.fetch(offset, maxBytes, until));
    }
    final int bytes = throttle.chunkBytes(maxBytes);
    throttle.acquire(bytes);
    final ByteString batches;
    try {
      batches = ask(leader, PartitionRequest.fetch(offset, bytes, until));
    } catch (IOException | RuntimeException e) {
      throttle.refund(bytes);
      throw e;
    }
    throttle.refund(bytes - (long) batches.size());
    throttledBytes.addAndGet(batches.size());
    return batches;
  }

  /**
   * Has the group's leader take a snapshot now ("the log up to its high watermark"), so the copy
   * that follows carries everything committed so far instead of Raft replaying it unthrottled.
   * Snapshot requests are served by whichever member they reach, so this one names the leader that
   * sent the notice (the point query after it goes to the leader too).
   */
  private void snapshotOnLeader(RaftClient client, RaftGroupId groupId, PartitionId id)
      throws IOException {
    final RaftPeerId leaderId = server.getDivision(groupId).getInfo().getLeaderId();
    if (leaderId == null) {
      throw new IOException(
          id + ": no leader known to take a snapshot; the leader will notify again");
    }
    final RaftClientReply reply =
        client.getSnapshotManagementApi(leaderId).create(true, SNAPSHOT_TIMEOUT.toMillis());
    if (!reply.isSuccess()) {
      throw new IOException(
          id + ": the leader did not take a snapshot: " + reply.getException(),
          reply.getException());
    }
  }

  /** Applier thread: appends fetched chunks in round-robin order over partitions. */
  private void applyFetched() {
    while (!closed) {
      final FetchBuffer.Chunk<PartitionId> chunk;
      try {
        chunk = buffer.poll(Duration.ofMillis(200));
      } catch (InterruptedException e) {
        return; // closing
      }
      if (chunk == null) {
        continue;
      }
      final CatchUp catchUp = catchUps.get(chunk.partition());
      try {
        if (catchUp != null && !catchUp.done.isDone()) {
          final long next = catchUp.machine.log().append(chunk.batches().duplicate()).nextOffset();
          fetchedBytes.addAndGet(chunk.bytes());
          if (next >= catchUp.point.highWatermark()) {
            finish(catchUp);
          }
        }
      } catch (IOException | RuntimeException e) {
        fail(catchUp, e);
      } finally {
        buffer.release(chunk);
      }
    }
  }

  private void finish(CatchUp catchUp) throws IOException {
    final SegmentedLog log = catchUp.machine.log();
    final PartitionRequest.SnapshotPoint point = catchUp.point;
    if (log.logStartOffset() < point.logStartOffset()) {
      // DeleteRecords entries behind the leader's purge point never reach this replica.
      log.deleteRecordsBefore(point.logStartOffset());
    }
    if (point.index() >= 0) {
      catchUp.machine.adoptLeaderProducerState(catchUp.producerState);
    }
    LOG.info(
        "{}: caught up from offset {} to {} (snapshot index {})",
        catchUp.machine.partition(),
        catchUp.startOffset,
        log.logEndOffset(),
        point.index());
    end(catchUp);
    catchUp.done.complete(point);
  }

  private void fail(CatchUp catchUp, Exception e) {
    final PartitionId id = catchUp.machine.partition();
    LOG.warn("{}: catch-up from the leader failed: {}", id, e.toString());
    end(catchUp);
    catchUp.done.completeExceptionally(new IOException(id + ": catch-up failed", e));
  }

  private void end(CatchUp catchUp) {
    catchUps.remove(catchUp.machine.partition(), catchUp);
    buffer.forget(catchUp.machine.partition());
  }

  /** The offset after the last batch of a chunk of whole batches. */
  static long nextOffsetAfter(ByteBuffer batches) {
    final RecordBatch batch = new RecordBatch();
    long next = -1;
    for (int p = batches.position(); p < batches.limit(); p += batch.sizeInBytes()) {
      batch.wrap(batches, p);
      next = batch.nextOffset();
    }
    return next;
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

  private RaftClient clientFor(RaftGroupId groupId) throws IOException {
    final RaftGroup group = PartitionMembership.groupOf(server.getDivision(groupId));
    return RaftClient.newBuilder()
        .setRaftGroup(group)
        .setProperties(clientProperties)
        .setParameters(parameters)
        .setRetryPolicy(LEADER_RETRIES)
        .build();
  }

  @Override
  public void close() {
    closed = true;
    fetchers.shutdownNow();
    applier.interrupt();
  }

  /** One partition catching up: where it started, where it goes, and its outcome. */
  private static final class CatchUp {
    final PartitionStateMachine machine;
    final boolean throttled;
    final boolean freshSnapshot;
    final CompletableFuture<PartitionRequest.SnapshotPoint> done = new CompletableFuture<>();
    volatile PartitionRequest.SnapshotPoint point;
    volatile ByteBuffer producerState;
    volatile long startOffset;

    CatchUp(PartitionStateMachine machine, boolean throttled, boolean freshSnapshot) {
      this.machine = machine;
      this.throttled = throttled;
      this.freshSnapshot = freshSnapshot;
    }

    void start(PartitionRequest.SnapshotPoint target, ByteBuffer targetProducerState, long from) {
      this.point = target;
      this.producerState = targetProducerState;
      this.startOffset = from;
    }
  }
}
