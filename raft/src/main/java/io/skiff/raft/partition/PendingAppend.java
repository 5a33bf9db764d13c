package io.skiff.raft.partition;

import io.skiff.log.LogAppendInfo;
import io.skiff.log.RecordBatchSequence;
import io.skiff.raft.producer.ProducerRun;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A leader's append between {@code startTransaction} and its local write: the batches (mutable, so
 * the leader can write offsets into them), their entry header, a future completed when the batches
 * are in the leader's partition log ({@code acks=1}), and whether this process validated exactly
 * these bytes, CRC32C included (the buffer its own {@link ReplicatedPartition#append} checked and
 * handed over), so that the local write need not compute the CRC again.
 */
record PendingAppend(
    ByteBuffer batches,
    EntryHeader header,
    CompletableFuture<AppendResult> written,
    boolean validatedHere) {
  /** Summarises validated batches into a header; offsets are assigned later. */
  static PendingAppend of(
      ByteBuffer batches, CompletableFuture<AppendResult> written, boolean validatedHere) {
    final RecordBatchSequence sequence = new RecordBatchSequence();
    // Producers send every batch at base offset 0; number them provisionally to summarise.
    sequence.assignOffsets(batches, 0, 0);
    final LogAppendInfo info = sequence.summarize(batches);
    final EntryHeader header =
        EntryHeader.forAppend(
            info.sizeInBytes(), info.recordCount(), info.maxTimestamp(), ProducerRun.of(batches));
    return new PendingAppend(batches, header, written, validatedHere);
  }
}
