package io.skiff.raft.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ProducerStateTableTest {
  private static final long PID = 42;
  private static final long DAY = ProducerStateTable.DEFAULT_EXPIRATION_MS;

  private final ProducerStateTable table = new ProducerStateTable(DAY);

  private long nextOffset;

  /** Checks and, if new, records an append of {@code count} records at the next offsets. */
  private ProducerStateTable.Verdict append(short epoch, int firstSeq, int count) {
    final int lastSeq = ProducerStateTable.nextSequence(firstSeq, count - 1);
    final ProducerStateTable.Verdict verdict = table.check(PID, epoch, firstSeq, lastSeq, 0);
    if (verdict instanceof ProducerStateTable.Accept) {
      table.update(PID, epoch, firstSeq, lastSeq, nextOffset, nextOffset + count - 1, 1_000);
      nextOffset += count;
    }
    return verdict;
  }

  @Test
  void anUnknownProducerMustStartAtSequenceZeroWhileTheLogIsWhole() {
    assertThatThrownBy(() -> table.check(7, (short) 3, 1234, 1240, 0))
        .isInstanceOf(ProducerStateException.class)
        .hasMessageContaining("expected sequence 0");
    assertThat(append((short) 0, 0, 3)).isInstanceOf(ProducerStateTable.Accept.class);
    assertThat(table.check(7, (short) 3, 0, 9, 0)).isInstanceOf(ProducerStateTable.Accept.class);
  }

  /** Kafka 4.x: its earlier records may have been deleted, so any sequence is accepted. */
  @Test
  void anUnknownProducerMayStartAtAnySequenceOnceRecordsWereRemoved() {
    assertThat(table.check(7, (short) 3, 1234, 1240, 500))
        .isInstanceOf(ProducerStateTable.Accept.class);
    table.update(7, (short) 3, 1234, 1240, 500, 506, 1_000);
    // Known from then on: the next append must follow it, even with records removed.
    assertThatThrownBy(() -> table.check(7, (short) 3, 1250, 1250, 500))
        .isInstanceOf(ProducerStateException.class)
        .hasMessageContaining("expected sequence 1241");
    assertThat(table.check(7, (short) 3, 1241, 1241, 500))
        .isInstanceOf(ProducerStateTable.Accept.class);
  }

  @Test
  void aRetryOfOneOfTheLastFiveIsADuplicateWithItsOriginalOffsets() {
    for (int i = 0; i < 5; i++) {
      append((short) 0, i * 10, 10);
    }
    assertThat(append((short) 0, 20, 10)).isEqualTo(new ProducerStateTable.Duplicate(20, 29));
    assertThat(append((short) 0, 0, 10)).isEqualTo(new ProducerStateTable.Duplicate(0, 9));
  }

  @Test
  void aRetryOlderThanTheLastFiveIsOutOfOrder() {
    for (int i = 0; i < 6; i++) {
      append((short) 0, i * 10, 10);
    }
    assertThatThrownBy(() -> append((short) 0, 0, 10))
        .isInstanceOf(ProducerStateException.class)
        .extracting(e -> ((ProducerStateException) e).reason())
        .isEqualTo(ProducerStateException.Reason.OUT_OF_ORDER_SEQUENCE);
  }

  @Test
  void aGapInSequencesIsOutOfOrder() {
    append((short) 0, 0, 5);
    assertThatThrownBy(() -> append((short) 0, 6, 5))
        .isInstanceOf(ProducerStateException.class)
        .hasMessageContaining("expected sequence 5");
  }

  @Test
  void anOverlappingRangeThatIsNotARetryIsOutOfOrder() {
    append((short) 0, 0, 5);
    assertThatThrownBy(() -> append((short) 0, 2, 5)).isInstanceOf(ProducerStateException.class);
  }

  @Test
  void anOlderEpochIsFencedAndANewerOneMustStartAtZero() {
    append((short) 2, 0, 5);
    assertThatThrownBy(() -> append((short) 1, 5, 1))
        .isInstanceOf(ProducerStateException.class)
        .extracting(e -> ((ProducerStateException) e).reason())
        .isEqualTo(ProducerStateException.Reason.INVALID_EPOCH);
    assertThatThrownBy(() -> append((short) 3, 5, 1))
        .extracting(e -> ((ProducerStateException) e).reason())
        .isEqualTo(ProducerStateException.Reason.OUT_OF_ORDER_SEQUENCE);
    assertThat(append((short) 3, 0, 1)).isInstanceOf(ProducerStateTable.Accept.class);
    assertThat(table.epoch(PID)).isEqualTo((short) 3);
    // The new epoch forgot the old epoch's batches: its sequence 0 is not a duplicate of them.
    assertThat(append((short) 3, 1, 4)).isInstanceOf(ProducerStateTable.Accept.class);
  }

  @Test
  void sequencesWrapFromIntMaxToZero() {
    table.update(PID, (short) 0, 0, Integer.MAX_VALUE - 3, 0, 0, 0);
    append((short) 0, Integer.MAX_VALUE - 2, 3);
    assertThat(append((short) 0, 0, 2)).isInstanceOf(ProducerStateTable.Accept.class);
    table.clear();
    table.update(PID, (short) 0, 0, Integer.MAX_VALUE - 2, 0, 0, 0);
    append((short) 0, Integer.MAX_VALUE - 1, 4); // wraps inside the batch: last sequence 1
    assertThat(append((short) 0, 2, 1)).isInstanceOf(ProducerStateTable.Accept.class);
    assertThat(append((short) 0, Integer.MAX_VALUE - 1, 4))
        .isInstanceOf(ProducerStateTable.Duplicate.class);
  }

  @Test
  void producersExpireAfterTheExpirationTimeWithoutAppends() {
    table.update(1, (short) 0, 0, 0, 0, 0, 1_000);
    table.update(2, (short) 0, 0, 0, 1, 1, 5_000);
    assertThat(table.expire(1_000 + DAY - 1)).isZero();
    assertThat(table.expire(1_000 + DAY)).isEqualTo(1);
    assertThat(table.epoch(1)).isEqualTo((short) -1);
    assertThat(table.epoch(2)).isZero();
  }

  @Test
  void aSnapshotRestoresEveryProducerWindowAndEpoch() {
    for (int i = 0; i < 7; i++) {
      append((short) 4, i * 3, 3);
    }
    table.update(99, (short) 1, 10, 19, 500, 509, 2_000);
    final ByteBuffer bytes = ByteBuffer.allocate(table.serializedSize());
    table.writeTo(bytes);
    assertThat(bytes.hasRemaining()).isFalse();

    final ProducerStateTable restored = new ProducerStateTable(DAY);
    restored.readFrom(bytes.flip());
    assertThat(restored.size()).isEqualTo(2);
    assertThat(restored.check(PID, (short) 4, 18, 20, 0))
        .isEqualTo(new ProducerStateTable.Duplicate(18, 20));
    assertThat(restored.check(PID, (short) 4, 21, 21, 0))
        .isInstanceOf(ProducerStateTable.Accept.class);
    assertThatThrownBy(() -> restored.check(PID, (short) 4, 3, 5, 0))
        .isInstanceOf(ProducerStateException.class); // outside the window of five
    assertThat(restored.check(99, (short) 1, 10, 19, 0))
        .isEqualTo(new ProducerStateTable.Duplicate(500, 509));
  }

  @Test
  void aTruncatedSnapshotIsRefused() {
    append((short) 0, 0, 1);
    final ByteBuffer bytes = ByteBuffer.allocate(table.serializedSize());
    table.writeTo(bytes);
    bytes.flip().limit(bytes.limit() - 3);
    assertThatThrownBy(() -> new ProducerStateTable(DAY).readFrom(bytes))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("truncated");
  }

  /**
   * A producer sends a stream of batches; the network repeats some (retries). Whatever the order of
   * in-window retries, the table appends each batch exactly once and answers every retry with the
   * offsets the original got.
   */
  @Property(tries = 300)
  void retriesWithinTheWindowAreAppendedOnceAndAnsweredWithTheOriginalOffsets(
      @ForAll("batchSizes") List<Integer> sizes,
      @ForAll("retryChoices") List<Integer> retries,
      @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int startSequence) {
    final ProducerStateTable model = new ProducerStateTable(DAY);
    final List<long[]> sent = new ArrayList<>(); // firstSeq, lastSeq, firstOffset, lastOffset
    // A producer already known at startSequence - 1 (for instance just before the wrap).
    final int before = startSequence == 0 ? Integer.MAX_VALUE : startSequence - 1;
    model.update(PID, (short) 0, before, before, -1, -1, 0);
    int sequence = startSequence;
    long offset = 0;
    int retryIndex = 0;
    for (int size : sizes) {
      final int last = ProducerStateTable.nextSequence(sequence, size - 1);
      assertThat(model.check(PID, (short) 0, sequence, last, 0))
          .isInstanceOf(ProducerStateTable.Accept.class);
      model.update(PID, (short) 0, sequence, last, offset, offset + size - 1, 0);
      sent.add(new long[] {sequence, last, offset, offset + size - 1});
      offset += size;
      sequence = ProducerStateTable.nextSequence(last, 1);
      // Retry one of the last five batches (or none).
      final int back = retries.isEmpty() ? 0 : retries.get(retryIndex++ % retries.size());
      if (back > 0 && back <= sent.size()) {
        final long[] original = sent.get(sent.size() - back);
        assertThat(model.check(PID, (short) 0, (int) original[0], (int) original[1], 0))
            .isEqualTo(new ProducerStateTable.Duplicate(original[2], original[3]));
      }
    }
    // The next batch is in sequence; one past it is out of order.
    assertThat(model.check(PID, (short) 0, sequence, sequence, 0))
        .isInstanceOf(ProducerStateTable.Accept.class);
    final int skipped = ProducerStateTable.nextSequence(sequence, 1);
    assertThatThrownBy(() -> model.check(PID, (short) 0, skipped, skipped, 0))
        .isInstanceOf(ProducerStateException.class);
  }

  @Provide
  Arbitrary<List<Integer>> batchSizes() {
    return Arbitraries.integers().between(1, 50).list().ofMinSize(1).ofMaxSize(40);
  }

  @Provide
  Arbitrary<List<Integer>> retryChoices() {
    return Arbitraries.integers().between(0, 5).list().ofMaxSize(20);
  }

  /** nextSequence and inSequence agree: the sequence after {@code s} is in sequence with it. */
  @Property
  void theNextSequenceIsAlwaysInSequence(
      @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int sequence) {
    assertThat(
            ProducerStateTable.inSequence(sequence, ProducerStateTable.nextSequence(sequence, 1)))
        .isTrue();
  }
}
