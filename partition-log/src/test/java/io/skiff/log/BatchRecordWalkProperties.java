package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.CloseableIterator;

/**
 * The validator walks an uncompressed batch's records in place; on any batch, well-formed or with
 * bytes of its records changed (CRC recomputed, so only the records are wrong), it comes to the
 * verdict Kafka's own record iterator comes to: accepted, or refused for the same reason.
 */
class BatchRecordWalkProperties {

  @Property(tries = 2000)
  void walkAgreesWithKafkasRecordIterator(
      @ForAll("records") List<SimpleRecord> records,
      @ForAll("edits") List<int[]> edits,
      @ForAll boolean compacted) {
    final ByteBuffer batch =
        MemoryRecords.withRecords(Compression.NONE, records.toArray(SimpleRecord[]::new)).buffer();
    final int recordsLength = batch.limit() - RecordBatch.RECORDS_OFFSET;
    for (int[] edit : edits) {
      batch.put(RecordBatch.RECORDS_OFFSET + edit[0] % recordsLength, (byte) edit[1]);
    }
    final long crc = new RecordBatch().wrap(batch, 0).computeChecksum();
    batch.putInt(RecordBatch.CRC_OFFSET, (int) crc);
    final String partition = compacted ? "t-0" : null;

    assertThat(verdict(() -> BatchContentValidator.validate(batch.duplicate(), partition)))
        .isEqualTo(iteratorVerdict(batch.duplicate(), partition));
  }

  @Provide
  Arbitrary<List<SimpleRecord>> records() {
    final Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
    final Arbitrary<byte[]> key = Arbitraries.oneOf(bytes, Arbitraries.just(null));
    final Arbitrary<Header[]> headers =
        Combinators.combine(Arbitraries.strings().alpha().ofMaxLength(8), bytes)
            .as((k, v) -> (Header) new RecordHeader(k, v))
            .array(Header[].class)
            .ofMaxSize(3);
    return Combinators.combine(key, key, headers)
        .as((k, v, h) -> new SimpleRecord(1_700_000_000_000L, k, v, h))
        .list()
        .ofMinSize(1)
        .ofMaxSize(12);
  }

  @Provide
  Arbitrary<List<int[]>> edits() {
    final Arbitrary<int[]> edit =
        Combinators.combine(
                Arbitraries.integers().between(0, 100_000), Arbitraries.integers().between(0, 255))
            .as((at, value) -> new int[] {at, value});
    return Arbitraries.oneOf(Arbitraries.just(new ArrayList<>()), edit.list().ofMaxSize(3));
  }

  private static String verdict(Runnable validation) {
    try {
      validation.run();
      return "accepted";
    } catch (InvalidBatchException e) {
      return e.reason().name();
    }
  }

  /** The checks as made through Kafka's iterator, which parses each record into an object. */
  private static String iteratorVerdict(ByteBuffer buffer, String partition) {
    final DefaultRecordBatch batch =
        (DefaultRecordBatch) MemoryRecords.readableRecords(buffer).batches().iterator().next();
    final int count = batch.countOrNull();
    if (count <= 0 || batch.lastOffset() - batch.baseOffset() + 1 != count) {
      return InvalidBatchException.Reason.INVALID_OFFSETS.name();
    }
    long expected = batch.baseOffset();
    try (CloseableIterator<Record> records =
        batch.skipKeyValueIterator(BufferSupplier.NO_CACHING)) {
      while (records.hasNext()) {
        final Record record = records.next();
        if (record.offset() != expected) {
          return InvalidBatchException.Reason.INVALID_OFFSETS.name();
        }
        if (partition != null && !record.hasKey()) {
          return InvalidBatchException.Reason.MISSING_KEY.name();
        }
        expected++;
      }
    } catch (InvalidRecordException | IllegalArgumentException e) {
      // A record length of more than 5 varint bytes escaped the iterator as
      // IllegalArgumentException;
      // the walk refuses it as the malformed record it is.
      return InvalidBatchException.Reason.INVALID_OFFSETS.name();
    } catch (KafkaException | BufferUnderflowException e) {
      return InvalidBatchException.Reason.CORRUPT.name();
    }
    return "accepted";
  }
}
