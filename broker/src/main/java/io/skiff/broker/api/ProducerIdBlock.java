package io.skiff.broker.api;

import io.skiff.raft.metadata.MetadataService;
import java.util.concurrent.CompletableFuture;

/**
 * This broker's cache of producer ids: a block of {@value #BLOCK_SIZE} consecutive ids reserved in
 * the metadata group at a time, handed out one by one. Ids are unique across the cluster; ids of a
 * block not handed out before a restart are never used (Kafka does the same).
 *
 * <p>Thread-safe: the block and the one refill in flight are guarded by this object's monitor.
 */
public final class ProducerIdBlock {
  static final int BLOCK_SIZE = 1_000;

  private final MetadataService metadata;
  private long next;
  private long end;
  private CompletableFuture<Void> refill;

  public ProducerIdBlock(MetadataService metadata) {
    this.metadata = metadata;
  }

  /** The next unused producer id; reserves a new block when this one is used up. */
  public synchronized CompletableFuture<Long> nextId() {
    if (next < end) {
      return CompletableFuture.completedFuture(next++);
    }
    if (refill == null || refill.isDone()) {
      // a done refill's block is used up (or it failed): reserve the next one
      refill = metadata.allocateProducerIds(BLOCK_SIZE).thenAccept(this::reserved);
    }
    return refill.thenCompose(v -> nextId());
  }

  private synchronized void reserved(long first) {
    next = first;
    end = first + BLOCK_SIZE;
  }
}
