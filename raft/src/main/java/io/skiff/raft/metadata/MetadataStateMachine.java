package io.skiff.raft.metadata;

import io.skiff.log.Fsync;
import io.skiff.raft.LifecycleStateMachine;
import io.skiff.raft.SnapshotStorage;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
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
 * The state machine of the metadata group: applies {@link MetadataCommand}s to a {@link
 * MetadataState} and publishes a new {@link MetadataImage} after each, to readers and listeners.
 * Snapshots hold the whole state (it is small). Every broker runs one, as a voter or a listener, so
 * every broker has the metadata locally.
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
 * same lock as an apply; {@link #image()} is a volatile read.
 */
public final class MetadataStateMachine extends LifecycleStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);

  private final SnapshotStorage storage = new SnapshotStorage();
  private final MetadataState state = new MetadataState();
  private final List<Consumer<MetadataImage>> listeners = new CopyOnWriteArrayList<>();
  private final ConcurrentSkipListMap<Long, List<CompletableFuture<MetadataImage>>> waiters =
      new ConcurrentSkipListMap<>();
  private volatile MetadataImage image = MetadataImage.empty();
  private volatile Supplier<RaftClient> leaderClients;
  private volatile boolean logFailed;

  /** The query that asks the leader for its whole state. */
  private static final byte QUERY_STATE = 'S';

  /**
   * Where to ask for the leader's state when this replica is behind the leader's purged log: a
   * client of the group's voters, built per catch-up and closed after it.
   */
  public void catchUpThrough(Supplier<RaftClient> clients) {
    this.leaderClients = clients;
  }

  public MetadataImage image() {
    return image;
  }

  /** Called with every new image, on the apply thread; must not block. */
  public void addListener(Consumer<MetadataImage> listener) {
    listeners.add(listener);
    listener.accept(image);
  }

  public void removeListener(Consumer<MetadataImage> listener) {
    listeners.remove(listener);
  }

  /** Completes once the local image reflects log index {@code index}. */
  public CompletableFuture<MetadataImage> whenApplied(long index) {
    final CompletableFuture<MetadataImage> applied = new CompletableFuture<>();
    waiters.computeIfAbsent(index, i -> new CopyOnWriteArrayList<>()).add(applied);
    // The image is published before waiters are completed, so checking it after registering
    // cannot miss an apply that races with this call.
    final MetadataImage current = image;
    if (current.appliedIndex() >= index) {
      applied.complete(current);
    }
    return applied;
  }

  private void completeWaiters(MetadataImage current) {
    final var done = waiters.headMap(current.appliedIndex(), true);
    for (List<CompletableFuture<MetadataImage>> futures : done.values()) {
      futures.forEach(f -> f.complete(current));
    }
    done.clear();
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
      state.readFrom(in);
    }
    setLastAppliedTermIndex(snapshot.getTermIndex());
    publish(snapshot.getIndex());
  }

  /**
   * Ratis' log worker failed a write of the metadata group's Raft log here (a full disk): it fails
   * every later one too, and this replica stops following the metadata until the broker restarts.
   * Partition replicas leave {@code SegmentedLog.REPLICA_RESERVE_BYTES} free for this log so that a
   * full disk does not get here.
   */
  @Override
  public void notifyLogFailed(Throwable cause, LogEntryProto failedEntry) {
    if (!logFailed) {
      logFailed = true;
      LOG.error(
          "The metadata group's Raft log on this broker failed ({}): this broker no longer sees"
              + " metadata changes; free disk space and restart it",
          cause.toString());
    }
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

  private void publish(long index) {
    final MetadataImage next = state.image(index);
    image = next;
    completeWaiters(next);
    for (Consumer<MetadataImage> listener : listeners) {
      try {
        listener.accept(next);
      } catch (RuntimeException e) {
        LOG.error("Metadata listener failed on image {}", index, e);
      }
    }
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
    final Supplier<RaftClient> clients = leaderClients;
    if (clients == null) {
      return CompletableFuture.failedFuture(
          new IOException("metadata catch-up is not set up yet; the leader will notify again"));
    }
    LOG.info(
        "Metadata replica is behind the leader's log (it starts at {}); installing the leader's"
            + " state",
        firstTermIndexInLog);
    final RaftClient client = clients.get();
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
