package io.skiff.raft.producer;

import io.skiff.raft.partition.EntryHeader;
import java.nio.ByteBuffer;
import org.agrona.collections.Long2LongHashMap;

/**
 * The idempotent-producer state of one partition, in two layers.
 *
 * <p><b>Applied</b>: every replica updates it when it applies an append entry, from the producer
 * fields of the entry header, so all replicas hold the same state at the same log position; it is
 * saved with each snapshot, and a replica that catches up by fetching adopts the state the leader
 * saved with the snapshot it fetched to (batch headers lack the leader's append times).
 *
 * <p><b>In flight</b> (leader only): appends sequenced in this term but not yet applied. The leader
 * checks a new append against the applied state plus these, in log order. A producer's in-flight
 * entry starts as a copy of its applied entry when the leader sequences its first append of the
 * term and is dropped once its last sequenced append is applied; a new term starts with none,
 * because Ratis applies every entry of earlier terms before the leader's first append.
 *
 * <p>Expiry runs on the applied layer whenever the leader clock carried by the entries crosses a
 * minute boundary, so replicas expire the same producers at the same log position.
 *
 * <p>Thread-safety: every method is synchronized; callers are Ratis' log-lock holder (sequence),
 * its apply thread and the replica fetcher during catch-up.
 */
public final class PartitionProducers {
  private static final long EXPIRY_CHECK_MS = 60_000;

  private final ProducerStateTable applied;
  private final ProducerStateTable inFlight;
  private final Long2LongHashMap inFlightEnd = new Long2LongHashMap(-1);
  private long clockMs = Long.MIN_VALUE;

  public PartitionProducers(long expirationMs) {
    this.applied = new ProducerStateTable(expirationMs);
    this.inFlight = new ProducerStateTable(expirationMs);
  }

  /**
   * Checks a leader's append of {@code run} at offsets {@code [baseOffset, nextOffset)} to a log
   * that starts at {@code logStartOffset} and, if it is new, records it as in flight.
   *
   * @throws ProducerStateException if the append breaks the producer's sequence or epoch rules
   * @throws DuplicateAppendException if it repeats one of the producer's last appends
   */
  public synchronized void sequence(
      ProducerRun run, long baseOffset, long nextOffset, long appendTimeMs, long logStartOffset)
      throws DuplicateAppendException {
    final long id = run.producerId();
    if (inFlightEnd.get(id) < 0) {
      inFlight.copyFrom(applied, id);
    }
    final ProducerStateTable.Verdict verdict =
        inFlight.check(id, run.epoch(), run.firstSeq(), run.lastSeq(), logStartOffset);
    if (verdict instanceof ProducerStateTable.Duplicate d) {
      throw new DuplicateAppendException(d.firstOffset(), d.lastOffset() + 1);
    }
    inFlight.update(
        id, run.epoch(), run.firstSeq(), run.lastSeq(), baseOffset, nextOffset - 1, appendTimeMs);
    inFlightEnd.put(id, nextOffset);
  }

  /** Applies a committed append entry (every replica, in log order). */
  public synchronized void applied(EntryHeader header) {
    final ProducerRun run = header.producer();
    if (run.idempotent()) {
      applied.update(
          run.producerId(),
          run.epoch(),
          run.firstSeq(),
          run.lastSeq(),
          header.baseOffset(),
          header.nextOffset() - 1,
          header.appendTimeMs());
      final long end = inFlightEnd.get(run.producerId());
      if (end >= 0 && end <= header.nextOffset()) {
        inFlightEnd.remove(run.producerId());
        inFlight.remove(run.producerId());
      }
    }
    advanceClock(header.appendTimeMs());
  }

  private void advanceClock(long appendTimeMs) {
    if (appendTimeMs <= clockMs) {
      return;
    }
    final boolean crossed =
        clockMs != Long.MIN_VALUE
            && Math.floorDiv(appendTimeMs, EXPIRY_CHECK_MS)
                != Math.floorDiv(clockMs, EXPIRY_CHECK_MS);
    clockMs = appendTimeMs;
    if (crossed) {
      applied.expire(clockMs);
    }
  }

  /** Forgets appends sequenced by an earlier leadership of this replica. */
  public synchronized void resetInFlight() {
    inFlight.clear();
    inFlightEnd.clear();
  }

  /** Drops all state: the log it described was discarded. */
  public synchronized void clear() {
    applied.clear();
    clockMs = Long.MIN_VALUE;
    resetInFlight();
  }

  /**
   * Replaces the applied state with a snapshot's (empty bytes: a snapshot from before producer
   * state was saved, so none).
   *
   * @throws IllegalArgumentException if the bytes are not producer state this code reads
   */
  public synchronized void restore(ByteBuffer snapshot) {
    resetInFlight();
    if (snapshot.hasRemaining()) {
      final ByteBuffer in = snapshot.duplicate();
      if (in.remaining() < Long.BYTES) {
        throw new IllegalArgumentException("producer state snapshot is truncated");
      }
      clockMs = in.getLong();
      applied.readFrom(in);
    } else {
      applied.clear();
      clockMs = Long.MIN_VALUE;
    }
  }

  /**
   * The applied state for a snapshot: {@code clockMs int64} (the expiry clock) then the table in
   * {@link ProducerStateTable}'s format.
   */
  public synchronized ByteBuffer snapshot() {
    final ByteBuffer out = ByteBuffer.allocate(Long.BYTES + applied.serializedSize());
    out.putLong(clockMs);
    applied.writeTo(out);
    return out.flip();
  }

  /** Producers in the applied state (a gauge). */
  public synchronized int size() {
    return applied.size();
  }
}
