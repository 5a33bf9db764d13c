package io.skiff.broker.net;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Bytes in, messages in and bytes out per topic (Kafka's BrokerTopicMetrics BytesInPerSec,
 * MessagesInPerSec, BytesOutPerSec), counted at the protocol edge:
 *
 * <pre>
 *   topic.bytes.in[topic=T]      record bytes of Produce partitions answered without error
 *   topic.messages.in[topic=T]   records in those batches (v2 header record count)
 *   topic.bytes.out[topic=T]     record bytes of Fetch responses (consumers and replica catch-up)
 * </pre>
 *
 * A Produce request's sizes are read when it arrives ({@link #produceReceived}), while its frame
 * still holds the records, and added once the response says which partitions were accepted. The
 * counters of a deleted topic stay until the broker restarts.
 *
 * <p>Thread-safe: counters are created once per topic in a concurrent map; {@link Produce} values
 * belong to one request.
 */
final class TopicTraffic {
  private final MetricRegistry registry;
  private final Map<String, Counters> topics = new ConcurrentHashMap<>();
  private volatile Function<Uuid, String> topicNames = id -> null;

  TopicTraffic(MetricRegistry registry) {
    this.registry = registry;
  }

  /**
   * Names topics that requests name by id only (Produce v13, Fetch v13 and later); the function
   * answers null for an unknown id, whose traffic is then not counted.
   */
  void resolveTopicIdsWith(Function<Uuid, String> names) {
    this.topicNames = names;
  }

  /** The sizes of one Produce request, per topic and partition. */
  static final class Produce {
    private final Map<String, Map<Integer, long[]>> sizes = new HashMap<>();
  }

  /** Reads the record bytes and counts of a Produce request whose frame is still held. */
  Produce produceReceived(ProduceRequestData request) {
    final Produce produce = new Produce();
    for (ProduceRequestData.TopicProduceData topic : request.topicData()) {
      final String name = nameOf(topic.name(), topic.topicId());
      if (name == null) {
        continue;
      }
      final Map<Integer, long[]> partitions =
          produce.sizes.computeIfAbsent(name, t -> new HashMap<>());
      for (ProduceRequestData.PartitionProduceData partition : topic.partitionData()) {
        partitions.put(partition.index(), sizeAndCount(partition.records()));
      }
    }
    return produce;
  }

  /** Counts the partitions of {@code produce} that {@code response} accepted. */
  void produceAnswered(Produce produce, ProduceResponseData response) {
    for (ProduceResponseData.TopicProduceResponse topic : response.responses()) {
      final String name = nameOf(topic.name(), topic.topicId());
      final Map<Integer, long[]> partitions = name == null ? null : produce.sizes.get(name);
      if (partitions == null) {
        continue;
      }
      for (ProduceResponseData.PartitionProduceResponse partition : topic.partitionResponses()) {
        final long[] size = partitions.get(partition.index());
        if (size != null && partition.errorCode() == Errors.NONE.code()) {
          final Counters counters = counters(name);
          counters.bytesIn.inc(size[0]);
          counters.messagesIn.inc(size[1]);
        }
      }
    }
  }

  /** Counts the record bytes of a Fetch response about to be written. */
  void fetchAnswered(FetchResponseData response) {
    for (FetchResponseData.FetchableTopicResponse topic : response.responses()) {
      long bytes = 0;
      for (FetchResponseData.PartitionData partition : topic.partitions()) {
        final BaseRecords records = partition.records();
        bytes += records == null ? 0 : records.sizeInBytes();
      }
      final String name = bytes > 0 ? nameOf(topic.topic(), topic.topicId()) : null;
      if (name != null) {
        counters(name).bytesOut.inc(bytes);
      }
    }
  }

  private String nameOf(String name, Uuid id) {
    if (name != null && !name.isEmpty()) {
      return name;
    }
    return id == null || id.equals(Uuid.ZERO_UUID) ? null : topicNames.apply(id);
  }

  private static long[] sizeAndCount(BaseRecords records) {
    if (records == null) {
      return new long[] {0, 0};
    }
    long count = 0;
    if (records instanceof MemoryRecords memory) {
      for (RecordBatch batch : memory.batches()) {
        final Integer inBatch = batch.countOrNull();
        count += inBatch == null ? 0 : inBatch;
      }
    }
    return new long[] {records.sizeInBytes(), count};
  }

  private Counters counters(String topic) {
    return topics.computeIfAbsent(topic, t -> new Counters(registry, t));
  }

  /** The three counters of one topic. */
  private record Counters(Counter bytesIn, Counter messagesIn, Counter bytesOut) {
    Counters(MetricRegistry registry, String topic) {
      this(
          registry.counter("topic.bytes.in[topic=" + topic + "]"),
          registry.counter("topic.messages.in[topic=" + topic + "]"),
          registry.counter("topic.bytes.out[topic=" + topic + "]"));
    }
  }
}
