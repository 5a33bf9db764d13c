package io.skiff.raft.producer;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The idempotent-producer state of one partition: for each producer id its epoch, the time it last
 * appended, and the sequence and offset ranges of its last {@value #MAX_BATCHES} appends, with
 * Kafka's rules for a new append ({@link #check}):
 *
 * <ul>
 *   <li>a producer this partition has no state for starts at sequence 0. Another first sequence is
 *       accepted once records were removed from the log's head (its start offset is past 0), as
 *       Kafka 4.x accepts any sequence from a producer it holds no state for "possibly because all
 *       producer records have been deleted due to retention or the DeleteRecords API"; while the
 *       log still starts at 0 it is {@code OUT_OF_ORDER_SEQUENCE}, which keeps a pipelined batch
 *       from overtaking an earlier one that failed (Kafka's rule for transactions v2 producers).
 *       The Java producer retries a batch that is not its next one, and answers a real gap (state
 *       expired) by bumping its epoch, which restarts its sequences at 0;
 *   <li>an epoch older than the producer's → {@link ProducerStateException.Reason#INVALID_EPOCH};
 *   <li>a newer epoch must start at sequence 0, else {@code OUT_OF_ORDER_SEQUENCE};
 *   <li>same epoch: a sequence range equal to one of the last five is a duplicate, answered with
 *       the offsets it was written at; otherwise the first sequence must follow the last one
 *       ({@code last + 1}, wrapping from {@link Integer#MAX_VALUE} to 0), else {@code
 *       OUT_OF_ORDER_SEQUENCE}.
 * </ul>
 *
 * <p>{@link #update} records an append without checking it, as a replica applying its log does.
 * Producers expire ({@link #expire}) when they have not appended for the expiration time, measured
 * on the clock the caller passes (the leader's append time, which the Raft log carries, so every
 * replica expires the same producers at the same log position).
 *
 * <p>Snapshot format ({@link #writeTo} / {@link #readFrom}), big-endian:
 *
 * <pre>
 *  +----------------+----------------+-------------------------------+
 *  | magic 'PS' i16 | version i16 =1 | producerCount int32           |
 *  +----------------+----------------+-------------------------------+
 *  per producer:
 *  | producerId int64 | lastAppendMs int64 | epoch int16 | batches int8 (0..5) |
 *  per batch, oldest first:
 *  | firstSeq int32 | lastSeq int32 | firstOffset int64 | lastOffset int64 |
 * </pre>
 *
 * <p>Not thread-safe: the owner serialises access.
 */
public final class ProducerStateTable {
  /** Kafka's window of de-duplicated batches per producer (max.in.flight.requests 5). */
  static final int MAX_BATCHES = 5;

  /** Kafka's {@code producer.id.expiration.ms} default: one day. */
  public static final long DEFAULT_EXPIRATION_MS = 24L * 60 * 60 * 1000;

  /** The producer id of batches from non-idempotent producers. */
  public static final long NO_PRODUCER_ID = -1;

  private static final short MAGIC = ('P' << 8) | 'S';
  private static final short VERSION = 1;

  private final Long2ObjectHashMap<ProducerEntry> producers = new Long2ObjectHashMap<>();
  private final long expirationMs;

  ProducerStateTable(long expirationMs) {
    if (expirationMs <= 0) {
      throw new IllegalArgumentException(
          "producer.id.expiration.ms must be > 0 but was " + expirationMs);
    }
    this.expirationMs = expirationMs;
  }

  /** The verdict on an append that passes the rules. */
  sealed interface Verdict permits Accept, Duplicate {}

  /** A new append: write it. */
  record Accept() implements Verdict {}

  /** A retry of an append already written at {@code [firstOffset, lastOffset]}. */
  record Duplicate(long firstOffset, long lastOffset) implements Verdict {}

  private static final Accept ACCEPT = new Accept();

  /**
   * Applies Kafka's rules to an append of sequences {@code [firstSeq, lastSeq]} at {@code epoch} to
   * a log that starts at {@code logStartOffset}.
   *
   * @throws ProducerStateException if the append breaks a rule
   */
  Verdict check(long producerId, short epoch, int firstSeq, int lastSeq, long logStartOffset) {
    final ProducerEntry entry = producers.get(producerId);
    if (entry == null || entry.count == 0) {
      if (firstSeq != 0 && logStartOffset <= 0) {
        throw outOfOrder(
            producerId,
            epoch,
            firstSeq,
            "the partition has no state for it and no records were removed from its log, so"
                + " expected sequence 0");
      }
      return ACCEPT;
    }
    if (epoch < entry.epoch) {
      throw new ProducerStateException(
          ProducerStateException.Reason.INVALID_EPOCH,
          "producer "
              + producerId
              + " wrote with epoch "
              + epoch
              + ", older than its current epoch "
              + entry.epoch
              + "; a newer instance of this producer fenced it");
    }
    if (epoch > entry.epoch) {
      if (firstSeq != 0) {
        throw outOfOrder(producerId, epoch, firstSeq, "a new epoch must start at sequence 0");
      }
      return ACCEPT;
    }
    final int duplicate = entry.find(firstSeq, lastSeq);
    if (duplicate >= 0) {
      return new Duplicate(entry.firstOffset(duplicate), entry.lastOffset(duplicate));
    }
    if (!inSequence(entry.lastSeq(), firstSeq)) {
      throw outOfOrder(
          producerId, epoch, firstSeq, "expected sequence " + nextSequence(entry.lastSeq(), 1));
    }
    return ACCEPT;
  }

  /** Records an append; a new epoch forgets the batches of the old one. */
  void update(
      long producerId,
      short epoch,
      int firstSeq,
      int lastSeq,
      long firstOffset,
      long lastOffset,
      long appendTimeMs) {
    ProducerEntry entry = producers.get(producerId);
    if (entry == null) {
      entry = new ProducerEntry(epoch);
      producers.put(producerId, entry);
    } else if (entry.epoch != epoch) {
      entry.reset(epoch);
    }
    entry.add(firstSeq, lastSeq, firstOffset, lastOffset);
    entry.lastAppendMs = Math.max(entry.lastAppendMs, appendTimeMs);
  }

  /** Drops producers that have not appended for the expiration time before {@code nowMs}. */
  int expire(long nowMs) {
    final int before = producers.size();
    producers.values().removeIf(e -> nowMs - e.lastAppendMs >= expirationMs);
    return before - producers.size();
  }

  /** Copies {@code producerId}'s entry from {@code source}, or removes it here if it has none. */
  void copyFrom(ProducerStateTable source, long producerId) {
    final ProducerEntry entry = source.producers.get(producerId);
    if (entry == null) {
      producers.remove(producerId);
    } else {
      producers.put(producerId, entry.copy());
    }
  }

  void remove(long producerId) {
    producers.remove(producerId);
  }

  void clear() {
    producers.clear();
  }

  int size() {
    return producers.size();
  }

  /** The producer's epoch, or -1 if unknown. */
  short epoch(long producerId) {
    final ProducerEntry entry = producers.get(producerId);
    return entry == null ? -1 : entry.epoch;
  }

  /** Bytes {@link #writeTo} needs. */
  int serializedSize() {
    int size = 8;
    for (ProducerEntry entry : producers.values()) {
      size += 19 + entry.count * 24;
    }
    return size;
  }

  /**
   * Writes the table, producers in ascending id order, so replicas holding the same state write the
   * same bytes whatever order their hash maps hold it in.
   */
  void writeTo(ByteBuffer out) {
    out.putShort(MAGIC).putShort(VERSION).putInt(producers.size());
    final long[] ids = new long[producers.size()];
    int n = 0;
    for (Long2ObjectHashMap<ProducerEntry>.KeyIterator it = producers.keySet().iterator();
        it.hasNext(); ) {
      ids[n++] = it.nextLong();
    }
    Arrays.sort(ids);
    for (long id : ids) {
      final ProducerEntry entry = producers.get(id);
      out.putLong(id).putLong(entry.lastAppendMs).putShort(entry.epoch);
      out.put((byte) entry.count);
      for (int i = 0; i < entry.count; i++) {
        out.putInt(entry.firstSeq(i)).putInt(entry.lastSeq(i));
        out.putLong(entry.firstOffset(i)).putLong(entry.lastOffset(i));
      }
    }
  }

  /**
   * Replaces this table's content with a snapshot's.
   *
   * @throws IllegalArgumentException if the bytes are not a producer state snapshot this code reads
   */
  void readFrom(ByteBuffer in) {
    try {
      final short magic = in.getShort();
      final short version = in.getShort();
      if (magic != MAGIC || version != VERSION) {
        throw new IllegalArgumentException(
            "producer state has magic " + magic + " version " + version + "; expected version 1");
      }
      producers.clear();
      for (int n = in.getInt(); n > 0; n--) {
        final long id = in.getLong();
        final long lastAppendMs = in.getLong();
        final ProducerEntry entry = new ProducerEntry(in.getShort());
        entry.lastAppendMs = lastAppendMs;
        for (int batches = in.get(); batches > 0; batches--) {
          entry.add(in.getInt(), in.getInt(), in.getLong(), in.getLong());
        }
        producers.put(id, entry);
      }
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("producer state snapshot is truncated", e);
    }
  }

  /** Kafka's rule: {@code next} follows {@code last}, wrapping from Integer.MAX_VALUE to 0. */
  static boolean inSequence(int last, int next) {
    return next == (long) last + 1 || (next == 0 && last == Integer.MAX_VALUE);
  }

  /** {@code sequence + delta}, wrapping past Integer.MAX_VALUE to 0 as producers do. */
  static int nextSequence(int sequence, int delta) {
    if (sequence > Integer.MAX_VALUE - delta) {
      return delta - (Integer.MAX_VALUE - sequence) - 1;
    }
    return sequence + delta;
  }

  private static ProducerStateException outOfOrder(
      long producerId, short epoch, int firstSeq, String expected) {
    return new ProducerStateException(
        ProducerStateException.Reason.OUT_OF_ORDER_SEQUENCE,
        "producer "
            + producerId
            + " epoch "
            + epoch
            + " sent sequence "
            + firstSeq
            + " but "
            + expected);
  }

  /** One producer: its epoch and a ring of its last batches. */
  private static final class ProducerEntry {
    private final int[] firstSeqs = new int[MAX_BATCHES];
    private final int[] lastSeqs = new int[MAX_BATCHES];
    private final long[] firstOffsets = new long[MAX_BATCHES];
    private final long[] lastOffsets = new long[MAX_BATCHES];
    private short epoch;
    private long lastAppendMs = Long.MIN_VALUE;
    private int head; // index of the oldest batch
    private int count;

    ProducerEntry(short epoch) {
      this.epoch = epoch;
    }

    void reset(short newEpoch) {
      epoch = newEpoch;
      head = 0;
      count = 0;
    }

    void add(int firstSeq, int lastSeq, long firstOffset, long lastOffset) {
      final int slot = (head + count) % MAX_BATCHES;
      firstSeqs[slot] = firstSeq;
      lastSeqs[slot] = lastSeq;
      firstOffsets[slot] = firstOffset;
      lastOffsets[slot] = lastOffset;
      if (count < MAX_BATCHES) {
        count++;
      } else {
        head = (head + 1) % MAX_BATCHES;
      }
    }

    /** The i-th batch, oldest first, whose sequences are exactly {@code [first, last]}, or -1. */
    int find(int first, int last) {
      for (int i = 0; i < count; i++) {
        if (firstSeq(i) == first && lastSeq(i) == last) {
          return i;
        }
      }
      return -1;
    }

    int lastSeq() {
      return lastSeq(count - 1);
    }

    int firstSeq(int i) {
      return firstSeqs[(head + i) % MAX_BATCHES];
    }

    int lastSeq(int i) {
      return lastSeqs[(head + i) % MAX_BATCHES];
    }

    long firstOffset(int i) {
      return firstOffsets[(head + i) % MAX_BATCHES];
    }

    long lastOffset(int i) {
      return lastOffsets[(head + i) % MAX_BATCHES];
    }

    ProducerEntry copy() {
      final ProducerEntry copy = new ProducerEntry(epoch);
      copy.lastAppendMs = lastAppendMs;
      for (int i = 0; i < count; i++) {
        copy.add(firstSeq(i), lastSeq(i), firstOffset(i), lastOffset(i));
      }
      return copy;
    }
  }
}
