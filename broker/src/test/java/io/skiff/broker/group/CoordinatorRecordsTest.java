package io.skiff.broker.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

class CoordinatorRecordsTest {
  private static CoordinatorRecords.Decoded decode(SimpleRecord record) {
    return CoordinatorRecords.decode(record.key(), record.value());
  }

  @Test
  void offsetCommitsAndTombstonesRoundTrip() {
    final TopicPartition tp = new TopicPartition("orders", 7);
    final CommittedOffset offset = new CommittedOffset(42, 3, "meta", 1234);
    assertThat(decode(CoordinatorRecords.offset(1, "g", tp, offset)))
        .isEqualTo(new CoordinatorRecords.OffsetRecord("g", tp, offset));
    assertThat(decode(CoordinatorRecords.offset(1, "g", tp, null)))
        .isEqualTo(new CoordinatorRecords.OffsetRecord("g", tp, null));
  }

  @Test
  void groupMetadataRoundTripsThroughARecordBatch() {
    final GroupMetadata group =
        new GroupMetadata(
            "consumer",
            5,
            "range",
            "m1",
            List.of(
                new GroupMetadata.Member(
                    "m1", "i1", "c", "/10.0.0.1", 30_000, 6000, new byte[] {1}, new byte[] {2, 3}),
                new GroupMetadata.Member(
                    "m2", null, "c", "/10.0.0.2", 30_000, 6000, new byte[0], new byte[0])));
    final ByteBuffer batch =
        CoordinatorRecords.batch(
            List.of(
                CoordinatorRecords.group(1, "g", group), CoordinatorRecords.group(2, "g", null)));
    final List<CoordinatorRecords.Decoded> decoded = new java.util.ArrayList<>();
    for (Record r : MemoryRecords.readableRecords(batch).records()) {
      decoded.add(CoordinatorRecords.decode(r.key(), r.hasValue() ? r.value() : null));
    }
    final var first = (CoordinatorRecords.GroupRecord) decoded.get(0);
    assertThat(first.value().generation()).isEqualTo(5);
    assertThat(first.value().leader()).isEqualTo("m1");
    assertThat(first.value().members()).hasSize(2);
    assertThat(first.value().members().get(0).assignment()).containsExactly(2, 3);
    assertThat(first.value().members().get(1).instanceId()).isNull();
    assertThat(decoded.get(1)).isEqualTo(new CoordinatorRecords.GroupRecord("g", null));
  }

  @Test
  void refusesUnknownVersionsAndTruncatedRecords() {
    final SimpleRecord record =
        CoordinatorRecords.offset(
            1, "g", new TopicPartition("t", 0), new CommittedOffset(1, 0, "", 0));
    final ByteBuffer key =
        ByteBuffer.allocate(record.key().remaining()).put(record.key().duplicate()).flip();
    key.put(0, (byte) 9);
    assertThatThrownBy(() -> CoordinatorRecords.decode(key, record.value()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version 9");
    final ByteBuffer truncated = record.value().duplicate().limit(5);
    assertThatThrownBy(() -> CoordinatorRecords.decode(record.key(), truncated))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("truncated");
  }
}
