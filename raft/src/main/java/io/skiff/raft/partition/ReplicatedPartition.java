package io.skiff.raft.partition;

import io.skiff.log.FetchSlice;
import io.skiff.log.InvalidBatchException;
import io.skiff.log.LogStorageException;
import io.skiff.log.OffsetOutOfRangeException;
import io.skiff.log.RecordBatchSequence;
import io.skiff.log.SegmentedLog;
import io.skiff.log.TimestampOffset;
import io.skiff.raft.RaftNode;
import io.skiff.raft.producer.DuplicateAppendException;
import io.skiff.raft.producer.ProducerRun;
import io.skiff.raft.producer.ProducerStateException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * A partition as the broker layer sees it: append batches through Raft, read committed batches
 * zero-copy, delete records below an offset on every replica, watch the high watermark, ask who
 * leads.
 *
 * <p>Appends are submitted straight to the local Raft server (no loopback RPC). Thread-safe.
 */
public final class ReplicatedPartition {
  private static final ThreadLocal<RecordBatchSequence> VALIDATOR =
      ThreadLocal.withInitial(RecordBatchSequence::new);

  /** The offset argument of {@link #deleteRecordsBefore} that means "the high watermark". */
  public static final long HIGH_WATERMARK = -1;

  private static final long IN_SYNC_TTL_NANOS = 100_000_000L;

  private final RaftNode node;
  private final PartitionStateMachine machine;
  private final RaftGroupId groupId;
  private final Object appendOrder = new Object();
  private volatile InSync inSync; // the last in-sync count, reused for IN_SYNC_TTL_NANOS
  private volatile Confirmed confirmed; // the last leadership check, reused likewise

  public ReplicatedPartition(RaftNode node, PartitionStateMachine machine) {
    this.node = node;
    this.machine = machine;
    this.groupId = machine.partition().groupId();
  }

  public PartitionId id() {
    return machine.partition();
  }

  /** The partition's state machine, for this package's tests. */
  public PartitionStateMachine machine() {
    return machine;
  }

  /**
   * Appends producer batches: validates them here (length, magic 2, CRC32C, size limits), then
   * replicates them; offsets are assigned by the leader.
   *
   * @return completes with the offsets once {@code acks} is satisfied (for a retry of an idempotent
   *     producer's append, with the original's offsets once they are committed); fails with {@link
   *     NotLeaderException} when this node does not lead the partition and with {@link
   *     ProducerStateException} when an idempotent producer's sequence or epoch is wrong, and with
   *     {@link LogStorageException} when the disk is too full to take the batches
   * @throws InvalidBatchException synchronously if a batch is invalid
   */
  public CompletableFuture<AppendResult> append(ByteBuffer batches, Acks acks) {
    final SegmentedLog log = machine.log();
    // Each batch against the topic's max.message.bytes (as Kafka checks it); the request as a
    // whole against what one Raft entry and one segment hold.
    VALIDATOR.get().validate(batches, log.config().maxBatchBytes());
    final int entryLimit = node.config().entryMaxBatchBytes();
    if (batches.remaining() > entryLimit) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.TOO_LARGE,
          PartitionStateMachine.tooLargeForEntry(id(), batches.remaining(), entryLimit));
    }
    if (batches.remaining() > log.config().segmentBytes()) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.TOO_LARGE,
          "one request's batches for "
              + id()
              + " total "
              + batches.remaining()
              + " bytes, above the topic's segment.bytes "
              + log.config().segmentBytes());
    }
    ProducerRun.of(batches); // one producer per request, consecutive sequences
    if (node.cutOffFromMajority(groupId)) {
      // An isolated leader is about to be replaced: it must not acknowledge acks=1 writes that
      // the new leader never sees.
      return CompletableFuture.failedFuture(
          new NotLeaderException(
              id(), -1, "this broker cannot reach a majority of the partition's replicas"));
    }
    if (acks != Acks.ALL && isLeaderReady() && !leadershipConfirmed()) {
      // Nor a leader that may have been replaced while it was cut off (acks=all writes need a
      // majority, which a replaced leader no longer gets).
      return CompletableFuture.failedFuture(
          new NotLeaderException(
              id(), -1, "this replica's leadership is not confirmed since its network healed"));
    }
    try {
      // A replica's write that fails for want of space wedges its Raft log for good: refuse first.
      log.checkSpaceFor(batches.remaining());
    } catch (LogStorageException e) {
      return CompletableFuture.failedFuture(e);
    }
    final long started = System.nanoTime();
    final long callId = node.nextCallId();
    final CompletableFuture<AppendResult> written =
        acks == Acks.LEADER ? machine.expectWrite(callId) : null;
    // One copy out of the request buffer; the state machine takes this copy over as the entry.
    final ByteBuffer content = PartitionRequest.appendContent(batches);
    machine.handOver(callId, content);
    final CompletableFuture<AppendResult> committed =
        submitInOrder(callId, Message.valueOf(UnsafeByteOperations.unsafeWrap(content)))
            .whenComplete((reply, error) -> machine.forgetHandOver(callId))
            .thenCompose(this::toAppendResult);
    committed.thenRun(() -> node.recordCommitLatency(System.nanoTime() - started));
    if (written == null) {
      return committed;
    }
    committed.whenComplete(
        (result, error) -> {
          machine.forgetWrite(callId);
          if (error != null) {
            written.completeExceptionally(error);
          } else {
            written.complete(result); // a duplicate is never written again
          }
        });
    return written;
  }

  /**
   * Drops the records below {@code offset} from every replica (Kafka's DeleteRecords): the leader
   * replicates the request as a Raft entry, and each replica moves its log start when it applies
   * it. Offsets inside a batch are fine; whole segments below the new start are deleted.
   *
   * @param offset the new log start; {@link #HIGH_WATERMARK} (-1) means the high watermark
   * @return completes with the new log start once the entry is committed and applied here; fails
   *     with {@link NotLeaderException} when this node does not lead the partition, and with {@link
   *     OffsetOutOfRangeException} when {@code offset} is above the high watermark
   */
  public CompletableFuture<Long> deleteRecordsBefore(long offset) {
    if (!isLeader()) {
      return CompletableFuture.failedFuture(
          new NotLeaderException(id(), leaderNodeId().orElse(-1), null));
    }
    final long highWatermark = machine.highWatermark();
    final long target = offset == HIGH_WATERMARK ? highWatermark : offset;
    if (target < 0 || target > highWatermark) {
      return CompletableFuture.failedFuture(
          new OffsetOutOfRangeException(id().toString(), offset, logStartOffset(), highWatermark));
    }
    return submit(node.nextCallId(), PartitionRequest.deleteRecords(target))
        .thenApply(reply -> toResult(reply, "delete-records").getLong());
  }

  /**
   * Submits a write so that the leader sequences it after every write this partition submitted
   * before: the Raft server's own submission hands requests to a thread pool, which may reorder
   * them, so appends go straight to the group's division, which sequences a request on the calling
   * thread, one caller at a time. A producer's pipelined requests thus keep their order.
   */
  private CompletableFuture<RaftClientReply> submitInOrder(long callId, Message message) {
    final RaftClientRequest request = request(callId, message);
    final Optional<RaftServer.Division> division = division();
    if (division.isEmpty() || !(division.get() instanceof RaftClientAsynchronousProtocol direct)) {
      return submit(request);
    }
    try {
      synchronized (appendOrder) {
        return direct.submitClientRequestAsync(request);
      }
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Submits a write to the local Raft server, which must lead the group. */
  private CompletableFuture<RaftClientReply> submit(long callId, Message message) {
    return submit(request(callId, message));
  }

  private CompletableFuture<RaftClientReply> submit(RaftClientRequest request) {
    try {
      return node.server().submitClientRequestAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private RaftClientRequest request(long callId, Message message) {
    return RaftClientRequest.newBuilder()
        .setClientId(node.clientId())
        .setServerId(node.peerId())
        .setGroupId(groupId)
        .setCallId(callId)
        .setMessage(message)
        .setType(RaftClientRequest.writeRequestType())
        .build();
  }

  /**
   * The offsets of an append; for a producer's retry of an append already sequenced, the original
   * offsets once they are committed.
   */
  private CompletableFuture<AppendResult> toAppendResult(RaftClientReply reply) {
    if (!reply.isSuccess() && reply.getException() instanceof StateMachineException refused) {
      if (refused.getCause() instanceof DuplicateAppendException duplicate) {
        final AppendResult original =
            new AppendResult(duplicate.baseOffset(), duplicate.nextOffset());
        return machine
            .whenCommitted(duplicate.nextOffset(), duplicate.term())
            .thenApply(v -> original);
      }
      if (refused.getCause() instanceof ProducerStateException rejected) {
        return CompletableFuture.failedFuture(rejected);
      }
      if (refused.getCause() instanceof InvalidBatchException invalid) {
        return CompletableFuture.failedFuture(invalid);
      }
    }
    final ByteBuffer b = toResult(reply, "append");
    return CompletableFuture.completedFuture(new AppendResult(b.getLong(), b.getLong()));
  }

  /** The reply's content, or the exception a caller acts on (not leader, not ready, failed). */
  private ByteBuffer toResult(RaftClientReply reply, String operation) {
    if (reply.isSuccess()) {
      return reply.getMessage().getContent().asReadOnlyByteBuffer();
    }
    if (reply.getNotLeaderException() != null) {
      final var suggested = reply.getNotLeaderException().getSuggestedLeader();
      throw new NotLeaderException(
          id(), suggested == null ? -1 : RaftNode.nodeIdOf(suggested.getId()), null);
    }
    if (reply.getException() instanceof LeaderNotReadyException) {
      throw new NotLeaderException(id(), node.config().nodeId(), "leader not ready yet");
    }
    if (reply.getException() instanceof LeaderSteppingDownException) {
      // A leader transfer (preferred election, reassignment) is under way: retry elsewhere.
      throw new NotLeaderException(id(), -1, "leader stepping down");
    }
    throw new CompletionException(
        new IOException(
            id() + ": " + operation + " failed: " + reply.getException(), reply.getException()));
  }

  /**
   * Committed batches from {@code offset}, as a zero-copy slice bounded by the high watermark.
   *
   * @throws io.skiff.log.OffsetOutOfRangeException outside {@code [logStart, logEnd]}
   */
  public FetchSlice read(long offset, int maxBytes) throws IOException {
    return machine.log().read(offset, maxBytes, machine.highWatermark());
  }

  public long highWatermark() {
    return machine.highWatermark();
  }

  /**
   * Applies the log's retention (call it periodically), never past the high watermark nor past the
   * oldest batch an entry still in this replica's Raft log refers to ({@link RaftLogFloor}):
   * whichever replica leads next must be able to send every such entry to a lagging follower.
   *
   * @return the segments deleted
   */
  public int applyRetention() throws IOException {
    final SegmentedLog log = machine.log();
    final long highWatermark = machine.highWatermark();
    final Optional<RaftServer.Division> division = division();
    if (division.isEmpty()) {
      return 0; // not started, or being removed
    }
    final long floor =
        RaftLogFloor.of(division.get().getRaftLog(), highWatermark, log.logStartOffset());
    return log.applyRetention(Math.min(highWatermark, floor));
  }

  /**
   * ListOffsets over what consumers may read, as Kafka answers with its last fetchable offset:
   * {@link SegmentedLog#LATEST_TIMESTAMP} is the high watermark, {@link
   * SegmentedLog#EARLIEST_TIMESTAMP} the log start, and a timestamp (or {@link
   * SegmentedLog#MAX_TIMESTAMP}) finds a record only below the high watermark: an uncommitted
   * record may still be truncated, so it is never an answer.
   *
   * @return null when no committed record qualifies (Kafka answers offset -1)
   * @throws IllegalArgumentException for a negative timestamp with no meaning
   */
  public TimestampOffset offsetForTimestamp(long timestamp) throws IOException {
    final long committed = machine.highWatermark(); // first: the log may grow past it meanwhile
    if (timestamp == SegmentedLog.LATEST_TIMESTAMP) {
      return new TimestampOffset(-1, committed);
    }
    final TimestampOffset found = machine.log().offsetForTimestamp(timestamp);
    if (timestamp == SegmentedLog.EARLIEST_TIMESTAMP || found == null) {
      return found;
    }
    return found.offset() < committed ? found : null;
  }

  /** Producer retries this replica, as leader, answered with the original offsets (a counter). */
  public long duplicateAppends() {
    return machine.duplicateAppends();
  }

  /** Idempotent producers this replica holds state for (a gauge). */
  public int producerCount() {
    return machine.producerCount();
  }

  public long logStartOffset() {
    return machine.log().logStartOffset();
  }

  public long logEndOffset() {
    return machine.log().logEndOffset();
  }

  /** The partition log, for inspection (tests, tools); writes go through {@link #append}. */
  public SegmentedLog log() {
    return machine.log();
  }

  public void addListener(HighWatermarkListener listener) {
    machine.addListener(listener);
  }

  public void removeListener(HighWatermarkListener listener) {
    machine.removeListener(listener);
  }

  public boolean isLeader() {
    return inService() && division().map(d -> d.getInfo().isLeader()).orElse(false);
  }

  /** Whether this node leads and its leadership is ready to take writes. */
  public boolean isLeaderReady() {
    return inService() && division().map(d -> d.getInfo().isLeaderReady()).orElse(false);
  }

  /**
   * False once this replica found a committed entry missing from its partition log: it then serves
   * nothing and Ratis has closed its division of the group ({@link
   * PartitionStateMachine#outOfService}).
   */
  public boolean inService() {
    return machine.outOfService() == null;
  }

  /** The leading node's id, if known. */
  public Optional<Integer> leaderNodeId() {
    return division()
        .map(d -> d.getInfo().getLeaderId())
        .map(RaftPeerId::toString)
        .map(RaftNode::nodeIdOf);
  }

  /**
   * The replicas in sync with this leader, itself included, as Kafka counts its ISR: a voter is in
   * sync if it replied to the leader within {@code lagTimeMs} (Kafka's {@code
   * replica.lag.time.max.ms}), or if it holds every entry of the leader's log and its broker
   * answers the liveness probes. An idle group's followers hear from the leader only at heartbeats,
   * seconds apart, so reply age alone would count healthy, caught-up followers out. Non-voting
   * listeners, which do not count toward a commit, are left out. 0 if this node does not lead.
   */
  public int inSyncReplicas(long lagTimeMs) {
    final long now = System.nanoTime();
    final InSync last = inSync;
    if (last != null && last.lagTimeMs() == lagTimeMs && now - last.atNanos() < IN_SYNC_TTL_NANOS) {
      return last.count(); // produce asks per partition and request: count at most every 100 ms
    }
    final int count = countInSync(lagTimeMs);
    inSync = new InSync(now, lagTimeMs, count);
    return count;
  }

  private record InSync(long atNanos, long lagTimeMs, int count) {}

  private int countInSync(long lagTimeMs) {
    final Optional<RaftServer.Division> division = division();
    if (division.isEmpty() || !division.get().getInfo().isLeader()) {
      return 0;
    }
    final RoleInfoProto role = division.get().getInfo().getRoleInfoProto();
    if (!role.hasLeaderInfo()) {
      return 0;
    }
    final Collection<RaftPeer> voters = division.get().getRaftConf().getCurrentPeers();
    final List<ServerRpcProto> followers = role.getLeaderInfo().getFollowerInfoList();
    // Both lists follow the leader's log appenders, in their order. Should the appenders change
    // between the two calls, the lengths differ (a member added or removed): then no follower
    // counts as caught up and reply age decides, as it always may.
    final long[] matchIndices = division.get().getInfo().getFollowerMatchIndices();
    final long lastIndex = division.get().getRaftLog().getNextIndex() - 1;
    final Set<RaftPeerId> reachable = node.reachablePeers();
    int inSync = 1;
    for (int i = 0; i < followers.size(); i++) {
      final ServerRpcProto follower = followers.get(i);
      final RaftPeerId id = RaftPeerId.valueOf(follower.getId().getId());
      if (voters.stream().noneMatch(v -> v.getId().equals(id))) {
        continue;
      }
      final boolean caughtUp =
          reachable.contains(id)
              && matchIndices.length == followers.size()
              && matchIndices[i] >= lastIndex;
      if (caughtUp || follower.getLastRpcElapsedTimeMs() <= lagTimeMs) {
        inSync++;
      }
    }
    return inSync;
  }

  /**
   * Whether this replica leads, ready, and a majority of the voters (itself included) answered it
   * in this term after their brokers last became reachable from here. A leader cut off from the
   * others may have been replaced meanwhile; after the network heals it counts itself leader until
   * its successor's heartbeat or a follower's refusal reaches it, and its log may end before what
   * the new leader committed. Until a majority answers it again, it must serve neither reads nor
   * {@code acks=1} writes: a fetch beyond its log would be told OFFSET_OUT_OF_RANGE, and the
   * consumer would reset its position. Answers of followers that never became unreachable count as
   * they arrive, so a peer broker's restart does not stop the partitions led here.
   */
  public boolean leadershipConfirmed() {
    if (!isLeaderReady()) {
      return false;
    }
    final long now = System.nanoTime();
    final Confirmed last = confirmed;
    if (last != null && now - last.atNanos() < IN_SYNC_TTL_NANOS) {
      return last.value();
    }
    final boolean value = confirmLeadership(now);
    confirmed = new Confirmed(now, value);
    return value;
  }

  private record Confirmed(long atNanos, boolean value) {}

  private boolean confirmLeadership(long nowNanos) {
    final Optional<RaftServer.Division> division = division();
    if (division.isEmpty()) {
      return false;
    }
    final RoleInfoProto role = division.get().getInfo().getRoleInfoProto();
    if (!role.hasLeaderInfo()) {
      return false;
    }
    final Collection<RaftPeer> voters = division.get().getRaftConf().getCurrentPeers();
    final RaftPeerId self = division.get().getId();
    int confirming = voters.stream().anyMatch(v -> v.getId().equals(self)) ? 1 : 0;
    for (ServerRpcProto follower : role.getLeaderInfo().getFollowerInfoList()) {
      final RaftPeerId id = RaftPeerId.valueOf(follower.getId().getId());
      final long silentMs = follower.getLastRpcElapsedTimeMs();
      if (silentMs >= role.getRoleElapsedTimeMs()
          || voters.stream().noneMatch(v -> v.getId().equals(id))) {
        continue; // no answer in this term (the record starts at the lead's start), or no voter
      }
      if (node.heardSinceReachable(id, nowNanos - TimeUnit.MILLISECONDS.toNanos(silentMs))) {
        confirming++;
      }
    }
    return 2 * confirming > voters.size();
  }

  /** The current Raft term, which is the Kafka leader epoch. */
  public long leaderEpoch() {
    return division().map(d -> d.getInfo().getCurrentTerm()).orElse(-1L);
  }

  private Optional<RaftServer.Division> division() {
    try {
      return Optional.of(node.server().getDivision(groupId));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
