package io.skiff.raft.partition;

import io.skiff.log.FetchSlice;
import io.skiff.log.FileSystemSync;
import io.skiff.log.IndexMemoryBudget;
import io.skiff.log.InvalidBatchException;
import io.skiff.log.LogConfig;
import io.skiff.log.RecordBatchSequence;
import io.skiff.log.SegmentedLog;
import io.skiff.raft.catchup.ReplicaFetcher;
import io.skiff.raft.producer.DuplicateAppendException;
import io.skiff.raft.producer.PartitionProducers;
import io.skiff.raft.producer.ProducerRun;
import io.skiff.raft.producer.ProducerStateException;
import io.skiff.raft.producer.ProducerStateTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.agrona.concurrent.EpochClock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis state machine of one partition: a thin adapter between a Raft group and the partition's
 * {@link SegmentedLog}, like Ratis' FileStore example.
 *
 * <p><b>Write once.</b> An append entry's Raft log data is a 72-byte {@link EntryHeader}; the
 * batches travel as state-machine data and {@link #write} puts them into the partition log, on
 * every replica, exactly once. Ratis keeps no copy in its own log; a leader sending an old entry to
 * a lagging follower reads the batches back from the partition log ({@link #read}).
 *
 * <p><b>Durability.</b> {@link #flush} makes the partition log durable before Ratis counts the
 * entries flushed. With a {@link FileSystemSync} it waits for one syncfs of the data directory's
 * file system, shared with the flushes of every other partition under way, which covers the Raft
 * log too ({@link #flushSyncsRaftLog}, Ratis patch 0014); without one it fsyncs the segments and
 * Ratis fdatasyncs its log.
 *
 * <p><b>Offsets.</b> Only the leader assigns them, in {@link #preAppendTransaction}, which Ratis
 * calls under its log lock in log order. The Raft term is written into each batch as the Kafka
 * leader epoch. When a new term starts, every earlier entry has been applied (Ratis accepts writes
 * only once the leader's first entry is applied), so the next offset is the high watermark, and any
 * partition-log bytes past it are an uncommitted tail from an old term and are truncated.
 *
 * <p><b>High watermark</b> = the offset after the last applied batch; it moves in {@link
 * #applyTransaction} and {@link HighWatermarkListener}s hear of it at once. A committed entry whose
 * batches the partition log lacks is never applied: the replica takes itself out of the group
 * instead ({@link #outOfService()}).
 *
 * <p><b>Idempotent producers.</b> The leader checks each append of an idempotent producer in {@link
 * #preAppendTransaction}, in log order, against the producer state ({@link PartitionProducers}):
 * the applied state plus the appends it sequenced in this term. A retry of an append it already
 * sequenced is not appended again: it fails the Raft request with a {@link
 * DuplicateAppendException} and is answered with the original offsets once they are committed
 * ({@link #whenCommitted}); a broken sequence or a stale epoch fails it with a {@link
 * ProducerStateException}. Every replica updates the applied state when it applies an entry, from
 * the producer fields of the entry header, so a new leader has it; it is saved with each snapshot,
 * and a replica that catches up by fetching adopts the one the leader saved at the point it fetched
 * to.
 *
 * <p><b>DeleteRecords</b> is a Raft entry of its own ({@link DeleteRecordsEntry}, log data only):
 * applying it moves the log start of every replica, not only the leader's, to {@code min(offset,
 * high watermark)}; segments its Raft log still refers to stay until retention passes them.
 *
 * <p><b>Snapshots</b> are "the log up to the high watermark": taking one fsyncs the partition log
 * and records the point, after which Ratis may purge its log. A follower behind the purge point is
 * told to install a snapshot and catches up through the {@link ReplicaFetcher}.
 *
 * <p>Thread-safety: Ratis calls {@code preAppendTransaction} under its log lock, {@code write},
 * {@code flush} and {@code truncate} on the group's log worker, {@code applyTransaction} and {@code
 * takeSnapshot} on its apply thread, in log order. Reads of the log are lock-free.
 */
public final class PartitionStateMachine extends LifecycleStateMachine
    implements StateMachine.DataApi {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionStateMachine.class);

  private final PartitionId partition;
  private final Path logDir;
  private final Supplier<LogConfig> logConfig;
  private final IndexMemoryBudget budget;
  private final EpochClock clock;
  private final boolean fsync;

  /**
   * Shared syncfs rounds of the file system holding this partition's log and its Raft log: a flush
   * waits for one instead of fsyncing its segments and the Raft log file each (Ratis patch 0014,
   * {@link #flushSyncsRaftLog}). Null: each flush fsyncs its own files.
   */
  private final FileSystemSync fileSystemSync;

  private final int entryMaxBatchBytes;

  /** Read when needed: Ratis builds the machines of recovered groups before the node's fetcher. */
  private final Supplier<ReplicaFetcher> fetcher;

  private final BiConsumer<PartitionStateMachine, Throwable> logFailed;

  private final PartitionSnapshots snapshots = new PartitionSnapshots();
  private final List<HighWatermarkListener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong duplicateAppends = new AtomicLong();
  private final PartitionProducers producers =
      new PartitionProducers(ProducerStateTable.DEFAULT_EXPIRATION_MS);

  /** Duplicates waiting for their original's offsets to be committed, by that append's end. */
  private final ConcurrentSkipListMap<Long, List<CompletableFuture<Void>>> awaitingCommit =
      new ConcurrentSkipListMap<>();

  /** Raft index to base offset of entries written but not applied, for truncation. */
  private final ConcurrentSkipListMap<Long, Long> unapplied = new ConcurrentSkipListMap<>();

  /** Client call id to the future an {@code acks=1} producer waits on. */
  private final ConcurrentHashMap<Long, CompletableFuture<AppendResult>> awaitingWrite =
      new ConcurrentHashMap<>();

  /** Client call id to the content buffer its local submitter handed over (see handOver). */
  private final ConcurrentHashMap<Long, ByteBuffer> handedOver = new ConcurrentHashMap<>();

  private volatile SegmentedLog log;
  private volatile long highWatermark;
  private volatile String outOfService; // why this replica stopped applying, or null
  private long nextOffset; // leader only, under the Raft log lock
  private long assignTerm = -1; // leader only, under the Raft log lock
  private final RecordBatchSequence sequence = new RecordBatchSequence(); // under the log lock

  private final LongAdder leaderChanges = new LongAdder();

  public PartitionStateMachine(
      PartitionId partition,
      Path logDir,
      Supplier<LogConfig> logConfig,
      IndexMemoryBudget budget,
      EpochClock clock,
      boolean fsync,
      FileSystemSync fileSystemSync,
      int entryMaxBatchBytes,
      Supplier<ReplicaFetcher> fetcher,
      BiConsumer<PartitionStateMachine, Throwable> logFailed) {
    this.partition = partition;
    this.logDir = logDir;
    this.logConfig = logConfig;
    this.budget = budget;
    this.clock = clock;
    this.fsync = fsync;
    this.fileSystemSync = fsync ? fileSystemSync : null;
    this.entryMaxBatchBytes = entryMaxBatchBytes;
    this.fetcher = fetcher;
    this.logFailed = logFailed;
  }

  public PartitionId partition() {
    return partition;
  }

  /** The partition log; valid once Ratis has initialised this state machine. */
  public SegmentedLog log() {
    return log;
  }

  public long highWatermark() {
    return highWatermark;
  }

  /**
   * Why this replica stopped applying the group's entries (its partition log lacks a committed
   * entry's batches), or null while it is in service.
   */
  public String outOfService() {
    return outOfService;
  }

  /** Producer retries this replica, as leader, answered without appending (a counter). */
  public long duplicateAppends() {
    return duplicateAppends.get();
  }

  /** Idempotent producers this replica holds state for (a gauge). */
  public int producerCount() {
    return producers.size();
  }

  /** The applied producer state in its snapshot format, for comparing replicas. */
  public ByteBuffer producerState() {
    return producers.snapshot();
  }

  public void addListener(HighWatermarkListener listener) {
    listeners.add(listener);
  }

  public void removeListener(HighWatermarkListener listener) {
    listeners.remove(listener);
  }

  /**
   * A future completed with the offsets once the request with {@code callId} is in this leader's
   * partition log ({@code acks=1}). Register before submitting; {@link #forgetWrite} after the
   * request completed.
   */
  CompletableFuture<AppendResult> expectWrite(long callId) {
    final CompletableFuture<AppendResult> written = new CompletableFuture<>();
    awaitingWrite.put(callId, written);
    return written;
  }

  void forgetWrite(long callId) {
    awaitingWrite.remove(callId);
  }

  /**
   * Hands over the content buffer of the local append request {@code callId} ({@link
   * PartitionRequest#appendContent}): {@link #startTransaction} takes it as the entry's batches
   * instead of copying the message. The caller must not touch the buffer afterwards; {@link
   * #forgetHandOver} once the request completed.
   */
  void handOver(long callId, ByteBuffer content) {
    handedOver.put(callId, content);
  }

  void forgetHandOver(long callId) {
    handedOver.remove(callId);
  }

  /**
   * No retry cache for partitions (Ratis patch 0020): each append is submitted once, with a new
   * call id ({@code ReplicatedPartition}), and a producer's retry is a new request that the
   * producer state deduplicates. Ratis would otherwise keep every write's reply for a minute on
   * every replica, the largest set of objects young collections copied under load.
   */
  @Override
  public boolean usesRetryCache() {
    return false;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage)
      throws IOException {
    startUp(
        () -> {
          super.initialize(server, groupId, storage);
          snapshots.init(storage);
          log = SegmentedLog.open(logDir, logConfig.get(), budget, clock);
          // A topic config change published while the log was opening found no log to update.
          final LogConfig latest = logConfig.get();
          if (!latest.equals(log.config())) {
            log.updateConfig(latest);
          }
          restore();
        });
  }

  @Override
  protected void restore() throws IOException {
    final PartitionSnapshots.Loaded loaded = snapshots.load();
    if (loaded == null) {
      producers.clear();
      highWatermark = log.logStartOffset();
      return;
    }
    final PartitionRequest.SnapshotPoint point = loaded.point();
    try {
      producers.restore(loaded.producerState());
    } catch (IllegalArgumentException e) {
      throw new IOException(
          partition
              + ": the snapshot at index "
              + point.index()
              + " has unreadable producer state ("
              + e.getMessage()
              + "); remove the partition's Raft directory so this replica catches up from the"
              + " leader",
          e);
    }
    setLastAppliedTermIndex(TermIndex.valueOf(point.term(), point.index()));
    highWatermark = point.highWatermark();
    if (log.logEndOffset() < highWatermark) {
      throw new IOException(
          partition
              + ": snapshot at index "
              + point.index()
              + " covers offsets up to "
              + highWatermark
              + " but the partition log ends at "
              + log.logEndOffset()
              + "; the log directory "
              + logDir
              + " lost data");
    }
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return snapshots.storage();
  }

  @Override
  public DataApi data() {
    return this;
  }

  // ---- leader: build and sequence entries ----

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    final ByteString content = request.getMessage().getContent();
    return switch (PartitionRequest.type(content)) {
      case PartitionRequest.APPEND -> startAppend(request, content);
      case PartitionRequest.DELETE_RECORDS -> startDeleteRecords(request, content);
      default ->
          throw new IOException(partition + ": not a write request: type " + content.byteAt(0));
    };
  }

  private TransactionContext startAppend(RaftClientRequest request, ByteString content) {
    // The payload is validated by ReplicatedPartition before submission. Its content buffer was
    // handed over for this call: use it as the mutable batches; copy only a request from elsewhere.
    final ByteBuffer own = handedOver.remove(request.getCallId());
    final ByteBuffer batches;
    final boolean handedOver = own != null && own.remaining() == content.size();
    if (handedOver) {
      batches = own.duplicate().position(own.position() + 1).slice();
    } else {
      batches = ByteBuffer.allocate(content.size() - 1);
      content.substring(1).copyTo(batches);
      batches.flip();
    }
    final CompletableFuture<AppendResult> written = awaitingWrite.remove(request.getCallId());
    final PendingAppend pending =
        PendingAppend.of(
            batches, written != null ? written : new CompletableFuture<>(), handedOver);
    return TransactionContext.newBuilder()
        .setStateMachine(this)
        .setClientRequest(request)
        .setLogData(pending.header().asByteString())
        .setStateMachineData(UnsafeByteOperations.unsafeWrap(batches))
        .setStateMachineContext(pending)
        .build();
  }

  /** A DeleteRecords entry is its log data alone: no batches, nothing for {@link #write}. */
  private TransactionContext startDeleteRecords(RaftClientRequest request, ByteString content) {
    final long offset = PartitionRequest.payload(content).getLong();
    return TransactionContext.newBuilder()
        .setStateMachine(this)
        .setClientRequest(request)
        .setLogData(new DeleteRecordsEntry(offset).asByteString())
        .build();
  }

  @Override
  public TransactionContext preAppendTransaction(TransactionContext trx) throws IOException {
    if (!(trx.getStateMachineContext() instanceof PendingAppend pending)) {
      return trx;
    }
    checkEntrySize(pending.batches().remaining());
    final long term = currentTerm();
    if (term != assignTerm) {
      startTerm(term);
    }
    final long base = nextOffset;
    final long end = sequence.assignOffsets(pending.batches(), base, (int) term);
    final long now = clock.time();
    checkProducer(pending.header().producer(), base, end, now, term);
    nextOffset = end;
    pending.header().assign(base, end, (int) term, now);
    return trx;
  }

  /**
   * Refuses an append Ratis would refuse for its size, before it gets offsets: Ratis checks the
   * entry's size only after this method returns, and an entry refused then would leave a gap in the
   * offsets.
   */
  private void checkEntrySize(int batchBytes) throws StateMachineException {
    if (batchBytes > entryMaxBatchBytes) {
      throw new StateMachineException(
          partition + ": append too large",
          new InvalidBatchException(
              InvalidBatchException.Reason.TOO_LARGE,
              tooLargeForEntry(partition, batchBytes, entryMaxBatchBytes)),
          false);
    }
  }

  /** Why a request's batches do not fit one Raft entry, for the producer and the operator. */
  static String tooLargeForEntry(PartitionId partition, int batchBytes, int entryMaxBatchBytes) {
    return "one request's batches for "
        + partition
        + " total "
        + batchBytes
        + " bytes, above this broker's raft.entry.max.bytes "
        + entryMaxBatchBytes
        + " (one Raft entry); send smaller batches or raise raft.entry.max.bytes on every broker";
  }

  /**
   * Sequences an idempotent producer's append, or refuses it without appending: Ratis answers the
   * request with the exception, and the leader keeps leading.
   */
  private void checkProducer(ProducerRun run, long base, long end, long now, long term)
      throws StateMachineException {
    if (!run.idempotent()) {
      return;
    }
    try {
      producers.sequence(run, base, end, now, log.logStartOffset());
    } catch (DuplicateAppendException e) {
      duplicateAppends.incrementAndGet();
      throw new StateMachineException(partition + ": " + e.getMessage(), e.inTerm(term), false);
    } catch (ProducerStateException e) {
      throw new StateMachineException(partition + ": " + e.getMessage(), e, false);
    }
  }

  private void startTerm(long term) throws IOException {
    final long committed = highWatermark;
    if (log.logEndOffset() > committed) {
      LOG.info(
          "{}: leader for term {} drops an uncommitted tail [{}, {})",
          partition,
          term,
          committed,
          log.logEndOffset());
      log.truncateTo(committed);
    }
    nextOffset = committed;
    assignTerm = term;
    producers.resetInFlight();
    failCommitWaiters("a new leader term started");
  }

  private long currentTerm() throws IOException {
    return getServer().join().getDivision(getGroupId()).getInfo().getCurrentTerm();
  }

  // ---- every replica: write, flush, truncate, read back ----

  @Override
  public CompletableFuture<?> write(LogEntryProto entry, TransactionContext context) {
    final EntryHeader header = EntryHeader.read(entry.getStateMachineLogEntry().getLogData());
    if (header == null) {
      return CompletableFuture.completedFuture(null);
    }
    final PendingAppend pending =
        context != null && context.getStateMachineContext() instanceof PendingAppend p ? p : null;
    try {
      // A write that fails half way leaves the disk fuller; one refused here leaves room for the
      // metadata group's Raft log. Either way the Raft log fails and RaftLogRecovery restarts it.
      log.checkSpaceFor(header.batchBytes(), SegmentedLog.REPLICA_RESERVE_BYTES);
      alignLogEnd(header, entry.getIndex());
      if (pending != null && pending.validatedHere()) {
        // The leader's own buffer, CRC-checked by ReplicatedPartition.append; since then only the
        // offsets and epoch changed, which the CRC does not cover.
        log.appendValidated(pending.batches().duplicate().clear());
      } else if (pending != null) {
        log.append(pending.batches().duplicate().clear());
      } else {
        log.append(
            ByteStringView.of(
                entry.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData()));
      }
      unapplied.put(entry.getIndex(), header.baseOffset());
      if (pending != null) {
        pending.written().complete(new AppendResult(header.baseOffset(), header.nextOffset()));
      }
      return CompletableFuture.completedFuture(null);
    } catch (IOException | RuntimeException e) {
      LOG.error("{}: cannot write entry {} ({})", partition, entry.getIndex(), header, e);
      if (pending != null) {
        pending.written().completeExceptionally(e);
      }
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Makes the log end where the entry starts: an old uncommitted tail there is overwritten. */
  private void alignLogEnd(EntryHeader header, long index) throws IOException {
    final long end = log.logEndOffset();
    if (header.baseOffset() < end) {
      if (header.baseOffset() < highWatermark) {
        throw new IllegalStateException(
            partition
                + ": entry "
                + index
                + " starts at offset "
                + header.baseOffset()
                + ", below the high watermark "
                + highWatermark);
      }
      LOG.info("{}: entry {} replaces uncommitted offsets from {}", partition, index, end);
      log.truncateTo(header.baseOffset());
    } else if (header.baseOffset() > end) {
      throw new IllegalStateException(
          partition
              + ": entry "
              + index
              + " starts at offset "
              + header.baseOffset()
              + " but the partition log ends at "
              + end
              + "; the replica must catch up from a snapshot");
    }
  }

  @Override
  public CompletableFuture<Void> flush(long logIndex) {
    if (!fsync) {
      return CompletableFuture.completedFuture(null);
    }
    try {
      log.flush(fileSystemSync);
      return CompletableFuture.completedFuture(null);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * True when a flush waits for a syncfs of the file system that holds the Raft log too: Ratis then
   * writes its log buffer before calling {@link #flush} and does not fsync the log file itself.
   */
  @Override
  public boolean flushSyncsRaftLog() {
    return fileSystemSync != null;
  }

  @Override
  public CompletableFuture<Void> truncate(long logIndex) {
    final var first = unapplied.ceilingEntry(logIndex);
    if (first != null) {
      try {
        LOG.info(
            "{}: Raft truncated from index {}; log truncated to {}",
            partition,
            logIndex,
            first.getValue());
        log.truncateTo(first.getValue());
        unapplied.tailMap(logIndex, true).clear();
      } catch (IOException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<ByteString> read(LogEntryProto entry, TransactionContext context) {
    if (context != null && context.getStateMachineContext() instanceof PendingAppend pending) {
      return CompletableFuture.completedFuture(
          UnsafeByteOperations.unsafeWrap(pending.batches().duplicate().clear()));
    }
    final EntryHeader header = EntryHeader.read(entry.getStateMachineLogEntry().getLogData());
    if (header == null) {
      return CompletableFuture.completedFuture(ByteString.EMPTY);
    }
    try {
      // Below the log start too: DeleteRecords keeps what entries still in the Raft log refer to.
      final FetchSlice slice = log.readRetained(header.baseOffset(), header.batchBytes());
      if (slice.firstOffset() != header.baseOffset()
          || slice.nextOffset() != header.nextOffset()
          || slice.length() != header.batchBytes()) {
        throw new IOException(
            partition
                + ": the log no longer holds entry "
                + entry.getIndex()
                + " ("
                + header
                + ")");
      }
      return CompletableFuture.completedFuture(UnsafeByteOperations.unsafeWrap(slice.copyToHeap()));
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  // ---- commit ----

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    final LogEntryProto entry = trx.getLogEntry();
    final ByteString logData = entry.getStateMachineLogEntry().getLogData();
    final EntryHeader header = EntryHeader.read(logData);
    if (header == null) {
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      final DeleteRecordsEntry delete = DeleteRecordsEntry.read(logData);
      return delete == null
          ? CompletableFuture.completedFuture(Message.EMPTY)
          : applyDeleteRecords(entry.getIndex(), delete);
    }
    unapplied.headMap(entry.getIndex(), true).clear();
    if (header.nextOffset() > log.logEndOffset()) {
      throw outOfService(entry.getIndex(), header);
    }
    updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    producers.applied(header);
    if (header.nextOffset() > highWatermark) {
      highWatermark = header.nextOffset();
      for (HighWatermarkListener listener : listeners) {
        listener.onHighWatermark(partition, header.nextOffset());
      }
      completeCommitWaiters(highWatermark);
    }
    return CompletableFuture.completedFuture(
        PartitionRequest.appendReply(header.baseOffset(), header.nextOffset()));
  }

  /**
   * A committed entry whose batches this replica's partition log does not hold (lost or cut under
   * it): applying past it would advance the applied index and the high watermark over data that is
   * not here, and this replica, whose Raft log is complete, could then be elected and serve a log
   * that diverges from the others'. So the entry is not applied and the exception, thrown to Ratis'
   * apply thread, makes Ratis close this replica's division of the group: it stops serving and
   * voting for the partition until an operator rebuilds it. Other partitions are not affected.
   */
  private IllegalStateException outOfService(long index, EntryHeader header) {
    final String why =
        partition
            + ": committed entry "
            + index
            + " ("
            + header
            + ") is missing from the partition log "
            + logDir
            + ", which ends at "
            + log.logEndOffset()
            + "; this replica stops serving and voting for the partition. Rebuild it from the"
            + " others: reassign the partition off this broker and back, or remove its Raft"
            + " group and log directories while the broker is stopped";
    outOfService = why;
    LOG.error("{}", why);
    return new IllegalStateException(why);
  }

  /**
   * Moves this replica's log start, bounded by the high watermark at this point of the Raft log
   * (the same on every replica); answers the new log start. Consumers see the new start at once, as
   * in Kafka, but segments that entries still in this replica's Raft log refer to stay (see {@link
   * RaftLogFloor}): a lagging follower may still be sent those entries, whose batches the leader
   * reads back from here. Retention deletes them once snapshots let Ratis purge the entries.
   */
  private CompletableFuture<Message> applyDeleteRecords(long index, DeleteRecordsEntry delete) {
    try {
      final long start = log.logStartOffset();
      final long floor =
          RaftLogFloor.of(
              getServer().join().getDivision(getGroupId()).getRaftLog(), highWatermark, start);
      log.deleteRecordsBefore(Math.min(delete.offset(), highWatermark), floor);
      return CompletableFuture.completedFuture(
          PartitionRequest.deleteRecordsReply(log.logStartOffset()));
    } catch (IOException | RuntimeException e) {
      LOG.error("{}: cannot apply delete-records entry {} ({})", partition, index, delete, e);
      return CompletableFuture.failedFuture(e);
    }
  }

  // ---- read-only queries served by the leader ----

  @Override
  public CompletableFuture<Message> query(Message request) {
    final ByteString content = request.getContent();
    try {
      return switch (PartitionRequest.type(content)) {
        case PartitionRequest.FETCH -> CompletableFuture.completedFuture(fetch(content));
        case PartitionRequest.SNAPSHOT_POINT -> CompletableFuture.completedFuture(catchUpPoint());
        default ->
            CompletableFuture.failedFuture(
                new IOException(partition + ": unknown query type " + content.byteAt(0)));
      };
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * The latest snapshot point, with its log start raised to where retention or DeleteRecords has
   * moved this log's start since (never past the point): a follower catching up copies from what
   * this log still holds. The reply carries the producer state saved with that snapshot, which the
   * follower adopts: the batches alone cannot rebuild it (they lack the leader's append times,
   * which producer expiry runs on, and the expiry clock).
   */
  private Message catchUpPoint() throws IOException {
    final PartitionSnapshots.Loaded loaded = snapshots.load();
    final PartitionRequest.SnapshotPoint point =
        loaded != null ? loaded.point() : snapshots.latestOrStart(log);
    final ByteBuffer producerState =
        loaded != null ? loaded.producerState() : ByteBuffer.allocate(0);
    final long start =
        Math.min(Math.max(point.logStartOffset(), log.logStartOffset()), point.highWatermark());
    final PartitionRequest.SnapshotPoint raised =
        start == point.logStartOffset()
            ? point
            : new PartitionRequest.SnapshotPoint(
                point.term(), point.index(), point.highWatermark(), start);
    return PartitionRequest.snapshotPointReply(raised, producerState);
  }

  private Message fetch(ByteString content) throws IOException {
    final ByteBuffer request = PartitionRequest.payload(content);
    final long offset = request.getLong();
    final int maxBytes = request.getInt();
    final long maxOffset = request.getLong();
    final FetchSlice slice = log.read(offset, maxBytes, Math.min(maxOffset, highWatermark));
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(slice.copyToHeap()));
  }

  // ---- snapshots and catch-up ----

  @Override
  public long takeSnapshot() throws IOException {
    final TermIndex last = getLastAppliedTermIndex();
    if (last == null || last.getIndex() < 0) {
      return RaftLogIndex.INVALID;
    }
    log.flush();
    snapshots.save(
        new PartitionRequest.SnapshotPoint(
            last.getTerm(), last.getIndex(), highWatermark, log.logStartOffset()),
        producers.snapshot());
    return last.getIndex();
  }

  /**
   * Ratis asks a new replica to install a snapshot before it sends it any entry, even when the
   * leader's log still starts at its first index. Then there is nothing to fetch: completing with
   * null ("no snapshot") makes the leader send the whole log instead. Otherwise the replica fetcher
   * copies the segments the leader's log no longer covers.
   *
   * <p>A new replica of a move (it joins as a listener) while this broker's replication throttle is
   * set always copies through the replica fetcher, after the leader took a fresh snapshot: the
   * fetcher obeys the throttle, Raft's AppendEntries would not, so the bulk of the catch-up goes
   * where it is bounded and Raft replays only what was written since that snapshot.
   */
  @Override
  public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(
      RoleInfoProto roleInfo, TermIndex firstTermIndexInLog) {
    if (log == null) {
      // Ratis can deliver a notification to a division that is still starting.
      return CompletableFuture.failedFuture(
          new IOException(partition + ": not initialized yet; the leader will notify again"));
    }
    final ReplicaFetcher replicaFetcher = fetcher.get();
    final boolean moving = roleInfo.getRole() == RaftPeerRole.LISTENER;
    final boolean throttled = moving && replicaFetcher.throttle().isLimited();
    final TermIndex last = getLastAppliedTermIndex();
    final long nextNeeded = last == null ? 0 : last.getIndex() + 1;
    if (firstTermIndexInLog.getIndex() <= nextNeeded && !throttled) {
      LOG.info(
          "{}: the leader's log starts at {}, which holds everything from {}; replaying it",
          partition,
          firstTermIndexInLog,
          nextNeeded);
      return CompletableFuture.completedFuture(null);
    }
    LOG.info(
        "{}: behind the leader's log (it starts at {}){}; catching up with the replica fetcher",
        partition,
        firstTermIndexInLog,
        throttled ? ", throttled to " + replicaFetcher.throttle().rate() + " B/s" : "");
    return replicaFetcher
        .catchUp(this, getGroupId(), moving, throttled)
        .thenApply(
            point -> {
              if (point.index() < 0) {
                return null; // the leader had no snapshot either: its log has it all
              }
              installed(point);
              return TermIndex.valueOf(point.term(), point.index());
            });
  }

  /** The replica fetcher copied the leader's log up to {@code point}: adopt it as a snapshot. */
  private void installed(PartitionRequest.SnapshotPoint point) {
    try {
      log.flush();
      producers.resetInFlight();
      snapshots.save(point, producers.snapshot());
      unapplied.clear();
      highWatermark = point.highWatermark();
      setLastAppliedTermIndex(TermIndex.valueOf(point.term(), point.index()));
      for (HighWatermarkListener listener : listeners) {
        listener.onHighWatermark(partition, highWatermark);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(partition + ": cannot record the installed snapshot", e);
    }
  }

  /**
   * The replica fetcher copied the leader's log up to its snapshot point: the producer state is the
   * leader's at that point, as its snapshot recorded it.
   *
   * @throws IllegalArgumentException if the bytes are not producer state this code reads
   */
  public void adoptLeaderProducerState(ByteBuffer producerState) {
    producers.restore(producerState);
  }

  /** The replica fetcher discarded this replica's log to restart it at the leader's log start. */
  public void logRestartedForCatchUp() {
    producers.clear();
  }

  // ---- duplicates waiting for their original ----

  /**
   * Completes once the offsets before {@code nextOffset} are committed while this replica still
   * leads in {@code term}, the term the duplicate was sequenced in; fails if it does not lead in
   * that term when the waiter is added, or once a new term starts or leadership moves (the original
   * append may have been dropped and its offsets given to other data, so the producer must retry).
   * The caller adds the waiter after the Raft reply, so leadership may have moved in between: the
   * term is checked after the waiter is in place, so every later change fails it.
   */
  public CompletableFuture<Void> whenCommitted(long nextOffset, long term) {
    final CompletableFuture<Void> committed = new CompletableFuture<>();
    final List<CompletableFuture<Void>> waiters =
        awaitingCommit.computeIfAbsent(nextOffset, k -> new CopyOnWriteArrayList<>());
    waiters.add(committed);
    if (!leadsInTerm(term)) {
      waiters.remove(committed);
      committed.completeExceptionally(
          new NotLeaderException(
              partition,
              -1,
              "leadership changed after term "
                  + term
                  + ", in which the retry was matched to offsets before "
                  + nextOffset));
    } else if (highWatermark >= nextOffset) {
      committed.complete(null); // committed before, or while, the waiter was added
    }
    return committed;
  }

  private boolean leadsInTerm(long term) {
    try {
      final var info = getServer().join().getDivision(getGroupId()).getInfo();
      return info.isLeader() && info.getCurrentTerm() == term;
    } catch (IOException e) {
      return false;
    }
  }

  private void completeCommitWaiters(long committedOffset) {
    if (awaitingCommit.isEmpty()) {
      return;
    }
    final var ready = awaitingCommit.headMap(committedOffset, true);
    ready.values().forEach(waiters -> waiters.forEach(w -> w.complete(null)));
    ready.clear();
  }

  private void failCommitWaiters(String why) {
    if (awaitingCommit.isEmpty()) {
      return;
    }
    final NotLeaderException error = new NotLeaderException(partition, -1, why);
    awaitingCommit
        .values()
        .forEach(waiters -> waiters.forEach(w -> w.completeExceptionally(error)));
    awaitingCommit.clear();
  }

  /**
   * Ratis' log worker failed a write of this group's Raft log (this machine's own write, a Raft log
   * segment, ...): it fails every later one too, so the group must restart from disk to go on.
   */
  @Override
  public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
    logFailed.accept(this, cause);
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    leaderChanges.increment();
    failCommitWaiters("leadership moved to " + newLeaderId);
  }

  /** Leader changes this replica has seen since it was opened (Ratis notifications). */
  public long leaderChanges() {
    return leaderChanges.sum();
  }

  @Override
  public void close() throws IOException {
    final ReplicaFetcher replicaFetcher = fetcher.get();
    if (replicaFetcher != null) {
      replicaFetcher.cancel(this);
    }
    final SegmentedLog current = log;
    if (current != null) {
      current.close();
    }
  }

  @Override
  public String toString() {
    return "PartitionStateMachine(" + partition + ", hw=" + highWatermark + ")";
  }

  /** Sentinel Ratis understands as "no snapshot taken". */
  private static final class RaftLogIndex {
    static final long INVALID = -1;
  }
}
