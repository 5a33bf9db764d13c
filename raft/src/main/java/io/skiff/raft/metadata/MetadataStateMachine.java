package io.skiff.raft.metadata;

import io.skiff.log.Fsync;
import io.skiff.raft.LifecycleStateMachine;
import java.io.BufferedInputStream;
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
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
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
 * <p>Thread-safety: Ratis applies and snapshots on one thread; {@link #image()} is a volatile read.
 */
public final class MetadataStateMachine extends LifecycleStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);

  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final MetadataState state = new MetadataState();
  private final List<Consumer<MetadataImage>> listeners = new CopyOnWriteArrayList<>();
  private final ConcurrentSkipListMap<Long, List<CompletableFuture<MetadataImage>>> waiters =
      new ConcurrentSkipListMap<>();
  private volatile MetadataImage image = MetadataImage.empty();

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

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    final LogEntryProto entry = trx.getLogEntry();
    final MetadataState.Result result;
    try (DataInputStream in =
        new DataInputStream(entry.getStateMachineLogEntry().getLogData().newInput())) {
      result = state.apply(in);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(
          new UncheckedIOException("undecodable metadata entry " + entry.getIndex(), e));
    }
    updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
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
