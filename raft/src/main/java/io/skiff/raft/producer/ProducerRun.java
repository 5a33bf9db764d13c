package io.skiff.raft.producer;

import io.skiff.log.InvalidBatchException;
import io.skiff.log.RecordBatch;
import java.nio.ByteBuffer;

/**
 * The producer and sequence range one append carries: the batches of one produce request for one
 * partition come from one producer, and an idempotent producer numbers their records with
 * consecutive sequences. {@link #NONE} for batches of non-idempotent producers (producer id -1).
 *
 * @param producerId the producer, or -1
 * @param epoch the producer's epoch
 * @param firstSeq sequence of the first record
 * @param lastSeq sequence of the last record (wraps past Integer.MAX_VALUE to 0)
 */
public record ProducerRun(long producerId, short epoch, int firstSeq, int lastSeq) {
  public static final ProducerRun NONE =
      new ProducerRun(ProducerStateTable.NO_PRODUCER_ID, (short) -1, -1, -1);

  private static final ThreadLocal<RecordBatch> FLYWEIGHT =
      ThreadLocal.withInitial(RecordBatch::new);

  public boolean idempotent() {
    return producerId >= 0;
  }

  /**
   * Reads the run from validated batches (position to limit).
   *
   * @throws InvalidBatchException if the batches mix producers or epochs, or their sequences do not
   *     run on from batch to batch
   */
  public static ProducerRun of(ByteBuffer batches) {
    final RecordBatch batch = FLYWEIGHT.get();
    ProducerRun run = null;
    for (int position = batches.position(); position < batches.limit(); ) {
      batch.wrap(batches, position);
      final ProducerRun next = ofBatch(batch);
      run = run == null ? next : run.join(next);
      position += batch.sizeInBytes();
    }
    return run == null ? NONE : run;
  }

  /** The run of one batch. */
  static ProducerRun ofBatch(RecordBatch batch) {
    if (batch.producerId() < 0) {
      return NONE;
    }
    final int first = batch.baseSequence();
    return new ProducerRun(
        batch.producerId(),
        batch.producerEpoch(),
        first,
        ProducerStateTable.nextSequence(first, batch.lastOffsetDelta()));
  }

  private ProducerRun join(ProducerRun next) {
    if (next.producerId != producerId || next.epoch != epoch) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.INVALID_OFFSETS,
          "one produce request mixes batches of producer "
              + producerId
              + " epoch "
              + epoch
              + " and producer "
              + next.producerId
              + " epoch "
              + next.epoch
              + "; send each producer's batches in its own request");
    }
    if (!idempotent()) {
      return this;
    }
    if (!ProducerStateTable.inSequence(lastSeq, next.firstSeq)) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.INVALID_OFFSETS,
          "producer "
              + producerId
              + " sent batches with sequences ending at "
              + lastSeq
              + " and then starting at "
              + next.firstSeq
              + " in one request; the sequences of one request must be consecutive");
    }
    return new ProducerRun(producerId, epoch, firstSeq, next.lastSeq);
  }
}
