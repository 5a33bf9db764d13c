package io.skiff.raft.metadata;

import io.skiff.log.Fsync;
import io.skiff.raft.partition.LifecycleStateMachine;
import io.skiff.raft.partition.SnapshotStorage;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine of the metadata group's division on this broker: applies {@link
 * MetadataCommand}s to its {@link MetadataState} and hands a new {@link MetadataImage} after each
 * to the broker's {@link MetadataPublisher}. Snapshots hold the whole state (it is small). Every
 * broker runs one, as a voter or a listener, so every broker has the metadata locally.
 *
 * <p>One instance per start of the division: Ratis cannot initialise a closed state machine again,
 * so when the division restarts from disk after its Raft log failed ({@link #notifyLogFailed}), a
 * new instance rebuilds the state from the snapshot and the log, while the long-lived publisher
 * drops the images it has published already (it only moves forward).
 *
 * <p>Catch-up behind a purged log: Ratis does not ship snapshot files here (installSnapshot is off
 * for every group on the server), so a replica the leader's log no longer covers — a listener that
 * joins a long-running cluster, a voter back with an empty disk — asks the leader for its whole
 * state in a read-only query ({@link #query}: term, index, then the snapshot bytes), installs it as
 * its own snapshot and takes the log from there.
 *
 * <pre>
 *   STATE query reply:  term (8) | index (8) | MetadataState snapshot bytes
 * </pre>
 *
 * <p>Thread-safety: Ratis applies and snapshots on one thread; a query reads the state under the
 * same lock as an apply.
 */
public final class MetadataStateMachine extends LifecycleStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);

  private final SnapshotStorage storage = new SnapshotStorage();
  private final MetadataState state = new MetadataState();
  private final MetadataPublisher publisher;
  private final Supplier<RaftClient> leaderClient;
  private final BiConsumer<MetadataStateMachine, Throwable> logFailed;

  /** The query that asks the leader for its whole state. */
  private static final byte QUERY_STATE = 'S';

  /**
   * @param publisher where the images go; outlives this state machine
   * @param leaderClient builds a client of the group's voters to ask the leader for its state when
   *     this replica is behind the leader's purged log (closed after it); returns null while the
   *     broker has not set the metadata group up yet
   * @param logFailed told of every failed write of the group's Raft log here
   */
  public MetadataStateMachine(
      MetadataPublisher publisher,
      Supplier<RaftClient> leaderClient,
      BiConsumer<MetadataStateMachine, Throwable> logFailed) {
    this.publisher = publisher;
    this.leaderClient = leaderClient;
    this.logFailed = logFailed;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    startUp(
        () -> {
          super.initialize(server, groupId, raftStorage);
          storage.init(raftStorage);
          restore();
        });
  }

  @Override
  protected void restore() throws IOException {
    final SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
    if (snapshot == null) {
      return;
    }
    try (DataInputStream in =
        new DataInputStream(
            new BufferedInputStream(Files.newInputStream(snapshot.getFile().getPath())))) {
      synchronized (state) {
        state.readFrom(in);
        setLastAppliedTermIndex(snapshot.getTermIndex());
      }
    }
    publish(snapshot.getIndex());
  }

  /**
   * Ratis' log worker failed a write of the metadata group's Raft log here (a full disk): it fails
   * every later one too, so this replica stops following the metadata until its division restarts
   * from disk, which the broker does once there is room again. Partition replicas leave {@code
   * SegmentedLog.REPLICA_RESERVE_BYTES} free for this log so that a full disk rarely gets here.
   */
  @Override
  public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
    logFailed.accept(this, cause);
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    final LogEntryProto entry = trx.getLogEntry();
    final MetadataState.Result result;
    synchronized (state) {
      try (DataInputStream in =
          new DataInputStream(entry.getStateMachineLogEntry().getLogData().newInput())) {
        result = state.apply(in);
      } catch (IOException e) {
        return CompletableFuture.failedFuture(
            new UncheckedIOException("undecodable metadata entry " + entry.getIndex(), e));
      }
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    }
    if (result.error() == MetadataException.Error.NONE) {
      publish(entry.getIndex());
    }
    return CompletableFuture.completedFuture(encode(result));
  }

  /** Publishes the state as of {@code index}, unless the publisher is there already. */
  private void publish(long index) {
    if (index <= publisher.publishedIndex()) {
      return; // replaying what was published before this division restarted
    }
    final MetadataImage next;
    synchronized (state) {
      next = state.image(index);
    }
    publisher.publish(next);
  }

  static Message encode(MetadataState.Result result) {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(result.error().ordinal());
      out.writeUTF(result.message());
      out.writeLong(result.value());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes.toByteArray()));
  }

  /** Answers {@code STATE}: this replica's term, index and whole state, read consistently. */
  @Override
  public CompletableFuture<Message> query(Message request) {
    final var content = request.getContent();
    if (content.size() != 1 || content.byteAt(0) != QUERY_STATE) {
      return CompletableFuture.failedFuture(
          new IOException("unknown metadata query of " + content.size() + " bytes"));
    }
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      synchronized (state) {
        final TermIndex last = getLastAppliedTermIndex();
        out.writeLong(last == null ? 0 : last.getTerm());
        out.writeLong(last == null ? -1 : last.getIndex());
        state.writeTo(out);
      }
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    return CompletableFuture.completedFuture(
        Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes.toByteArray())));
  }

  /**
   * Ratis asks a new replica to install a snapshot before sending it entries, even when the
   * leader's log still holds everything: then completing with null makes the leader send the log.
   * Otherwise this replica adopts the leader's state ({@code STATE} query) as its snapshot.
   */
  @Override
  public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(
      RoleInfoProto roleInfo, TermIndex firstTermIndexInLog) {
    final TermIndex last = getLastAppliedTermIndex();
    final long nextNeeded = last == null ? 0 : last.getIndex() + 1;
    if (firstTermIndexInLog.getIndex() <= nextNeeded) {
      return CompletableFuture.completedFuture(null);
    }
    final RaftClient client = leaderClient.get();
    if (client == null) {
      return CompletableFuture.failedFuture(
          new IOException("metadata catch-up is not set up yet; the leader will notify again"));
    }
    LOG.info(
        "Metadata replica is behind the leader's log (it starts at {}); installing the leader's"
            + " state",
        firstTermIndexInLog);
    return client
        .async()
        .sendReadOnly(Message.valueOf(UnsafeByteOperations.unsafeWrap(new byte[] {QUERY_STATE})))
        .thenApply(this::install)
        .whenComplete((installed, error) -> closeQuietly(client));
  }

  /** Adopts the leader's {@code STATE} reply as this replica's snapshot and image. */
  private TermIndex install(RaftClientReply reply) {
    if (!reply.isSuccess()) {
      throw new UncheckedIOException(
          new IOException("the metadata leader did not send its state: " + reply.getException()));
    }
    final byte[] content = reply.getMessage().getContent().toByteArray();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(content))) {
      final TermIndex point = TermIndex.valueOf(in.readLong(), in.readLong());
      synchronized (state) {
        state.readFrom(in);
        setLastAppliedTermIndex(point);
      }
      final byte[] snapshot = java.util.Arrays.copyOfRange(content, 16, content.length);
      final File file = storage.getSnapshotFile(point.getTerm(), point.getIndex());
      Fsync.writeAtomically(file.toPath(), snapshot);
      final var md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
      Fsync.directory(file.toPath().toAbsolutePath().getParent());
      storage.updateLatestSnapshot(
          new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), point));
      publish(point.getIndex());
      LOG.info("Installed the metadata leader's state at {}", point);
      return point;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot install the metadata leader's state", e);
    }
  }

  private static void closeQuietly(RaftClient client) {
    try {
      client.close();
    } catch (IOException e) {
      LOG.debug("Closing the metadata catch-up client: {}", e.toString());
    }
  }

  @Override
  public long takeSnapshot() throws IOException {
    final TermIndex last = getLastAppliedTermIndex();
    if (last == null || last.getIndex() < 0) {
      return -1;
    }
    final File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      state.writeTo(out);
    }
    // Durable before Ratis purges the log entries it replaces: file, MD5 and directory entries.
    Fsync.writeAtomically(file.toPath(), bytes.toByteArray());
    final var md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
    Fsync.directory(file.toPath().toAbsolutePath().getParent());
    storage.updateLatestSnapshot(
        new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
    return last.getIndex();
  }
}
