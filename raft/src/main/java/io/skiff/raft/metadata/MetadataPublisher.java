package io.skiff.raft.metadata;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This broker's view of the cluster metadata: the latest {@link MetadataImage}, the listeners told
 * of each new one, and the callers waiting for a log index to be applied. It outlives the Ratis
 * state machines that feed it ({@link MetadataStateMachine}, one per start of the metadata group's
 * division here), so the {@link MetadataService} and the listeners hold on to it across a restart
 * of the division (after its Raft log failed).
 *
 * <p>Images only move forward: a restarted division replays the log from its snapshot, and an image
 * at or below the index already published is dropped, so readers and listeners never see the
 * metadata go backwards, nor an index twice.
 *
 * <p>Thread-safe: one division's apply thread publishes at a time; {@link #image()} is a volatile
 * read; listeners are called on the publishing thread, outside any lock, and must not block.
 */
public final class MetadataPublisher {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataPublisher.class);

  private final AtomicReference<MetadataImage> image = new AtomicReference<>(MetadataImage.empty());
  private final List<Consumer<MetadataImage>> listeners = new CopyOnWriteArrayList<>();
  private final ConcurrentSkipListMap<Long, List<CompletableFuture<MetadataImage>>> waiters =
      new ConcurrentSkipListMap<>();

  /** The latest image published. */
  public MetadataImage image() {
    return image.get();
  }

  /** The log index of the latest image published; -1 before the first. */
  public long publishedIndex() {
    return image.get().appliedIndex();
  }

  /** Called with the current image now, then with every new one; must not block. */
  public void addListener(Consumer<MetadataImage> listener) {
    listeners.add(listener);
    listener.accept(image.get());
  }

  public void removeListener(Consumer<MetadataImage> listener) {
    listeners.remove(listener);
  }

  /** Completes once the published image reflects log index {@code index}. */
  public CompletableFuture<MetadataImage> whenApplied(long index) {
    final CompletableFuture<MetadataImage> applied = new CompletableFuture<>();
    waiters.computeIfAbsent(index, i -> new CopyOnWriteArrayList<>()).add(applied);
    // The image is set before waiters are completed, so checking it after registering cannot
    // miss a publish that races with this call.
    final MetadataImage current = image.get();
    if (current.appliedIndex() >= index) {
      applied.complete(current);
    }
    return applied;
  }

  /**
   * Makes {@code next} the current image and tells the waiters and listeners, unless an image at or
   * beyond its index is published already (a restarted division replaying its log).
   *
   * @return whether {@code next} was published
   */
  boolean publish(MetadataImage next) {
    final MetadataImage previous =
        image.getAndUpdate(
            current -> next.appliedIndex() > current.appliedIndex() ? next : current);
    if (previous.appliedIndex() >= next.appliedIndex()) {
      return false;
    }
    final var done = waiters.headMap(next.appliedIndex(), true);
    for (List<CompletableFuture<MetadataImage>> futures : done.values()) {
      futures.forEach(f -> f.complete(next));
    }
    done.clear();
    for (Consumer<MetadataImage> listener : listeners) {
      try {
        listener.accept(next);
      } catch (RuntimeException e) {
        LOG.error("Metadata listener failed on image {}", next.appliedIndex(), e);
      }
    }
    return true;
  }
}
