package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.RecordBatch;
import io.skiff.log.TestBatches;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A produced batch whose records disagree with its header, or whose compressed payload does not
 * decompress, is refused as Kafka refuses it and never stored, even with a correct CRC.
 */
class ProduceRecordValidationTest {
  @TempDir Path dir;

  @Test
  void batchesWithInconsistentOrUndecodableRecordsAreRefusedBeforeTheyAreStored() throws Exception {
    try (BrokerCluster cluster = new BrokerCluster(dir, 1, Map.of())) {
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
        admin
            .createTopics(List.of(new NewTopic("checked", 1, (short) 1)))
            .all()
            .get(60, TimeUnit.SECONDS);
      }
      try (RawKafkaClient client = new RawKafkaClient(cluster.broker(1).kafkaPort())) {
        final ByteBuffer miscounted = TestBatches.batch(0, 5, 100, 0);
        miscounted.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 7);
        resign(miscounted);
        assertThat(produce(client, miscounted).errorCode()).isEqualTo(Errors.INVALID_RECORD.code());

        final ByteBuffer garbled = TestBatches.gzipBatch(0, 20, 0);
        for (int i = RecordBatch.RECORDS_OFFSET + 12; i < garbled.limit() - 12; i++) {
          garbled.put(i, (byte) (garbled.get(i) ^ 0x5a));
        }
        resign(garbled);
        assertThat(produce(client, garbled).errorCode()).isEqualTo(Errors.CORRUPT_MESSAGE.code());

        final PartitionProduceResponse good = produce(client, TestBatches.batch(0, 3, 10, 0));
        assertThat(good.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(good.baseOffset()).as("nothing refused was stored").isZero();
      }
    }
  }

  /**
   * Produces one batch to partition 0, waiting out the moments before the partition has a leader.
   */
  private static PartitionProduceResponse produce(RawKafkaClient client, ByteBuffer batch)
      throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      final PartitionProduceResponse answer = produceOnce(client, batch.duplicate());
      if (answer.errorCode() != Errors.NOT_LEADER_OR_FOLLOWER.code()
          || System.nanoTime() > deadline) {
        return answer;
      }
      Thread.sleep(100);
    }
  }

  private static PartitionProduceResponse produceOnce(RawKafkaClient client, ByteBuffer batch)
      throws Exception {
    final ProduceRequestData data =
        new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
    final ProduceRequestData.TopicProduceData topic =
        new ProduceRequestData.TopicProduceData().setName("checked");
    topic
        .partitionData()
        .add(
            new ProduceRequestData.PartitionProduceData()
                .setIndex(0)
                .setRecords(MemoryRecords.readableRecords(batch)));
    data.topicData().add(topic);
    final ProduceResponse response =
        (ProduceResponse)
            client.call(new ProduceRequest.Builder((short) 3, (short) 12, data).build());
    return response.data().responses().iterator().next().partitionResponses().get(0);
  }

  /** Recomputes the CRC32C after an edit, so only the edited field is wrong. */
  private static void resign(ByteBuffer batch) {
    final long crc = new RecordBatch().wrap(batch, 0).computeChecksum();
    batch.putInt(RecordBatch.CRC_OFFSET, (int) crc);
  }
}
