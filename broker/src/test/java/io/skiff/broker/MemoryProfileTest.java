package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.util.ResourceLeakDetector;
import io.skiff.broker.memory.MemoryPressure.Level;
import io.skiff.broker.memory.MemoryUsageSource.MemoryReading;
import io.skiff.broker.memory.ProduceMemoryPool;
import io.skiff.broker.memory.RequestBufferPool.SizeClass;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The memory profile on a real broker's request path: produce memory backpressure with real
 * producers, the pressure levels' actions seen in real responses, and no leaked request frame.
 */
class MemoryProfileTest {
  private static final int PRODUCE_MEMORY = 64 << 10;
  private static final int MAX_BLOCK_MS = 2_000;

  @TempDir static Path dir;

  private static BrokerCluster cluster;
  private static Broker broker;
  private static ListAppender<ILoggingEvent> leaks;

  @BeforeAll
  static void start() throws Exception {
    leaks = new ListAppender<>();
    leaks.start();
    ((Logger) LoggerFactory.getLogger(ResourceLeakDetector.class)).addAppender(leaks);
    cluster =
        new BrokerCluster(
            dir,
            1,
            Map.of(
                "skiff.produce.memory.bytes", Integer.toString(PRODUCE_MEMORY),
                "skiff.produce.memory.max.block.ms", Integer.toString(MAX_BLOCK_MS)));
    broker = cluster.broker(1);
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
      admin
          .createTopics(
              List.of(new NewTopic("stall", 8, (short) 1), new NewTopic("pressure", 1, (short) 1)))
          .all()
          .get(60, TimeUnit.SECONDS);
    }
    awaitLeader("pressure", 0);
  }

  private static void awaitLeader(String topic, int partition) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      final var info = broker.raft().metadata().image().topic(topic);
      if (info.isPresent()) {
        final var replica = broker.raft().partition(info.get().partition(partition));
        if (replica.isPresent() && replica.get().isLeaderReady()) {
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no leader for " + topic + "-" + partition + " within 60 s");
  }

  @AfterEach
  void normalPressure() {
    setPressure(0);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (cluster != null) {
        cluster.close();
      }
      // PARANOID tracks every frame; a frame collected unreleased is reported at a later
      // allocation, so collect, then allocate through the tracked allocator.
      for (int i = 0; i < 5; i++) {
        System.gc();
        Thread.sleep(100);
        final ByteBuf probe = broker.memory().frameAllocator().heapBuffer(16);
        probe.release();
      }
      assertThat(leaks.list).as("Netty leak reports").isEmpty();
      for (SizeClass c : SizeClass.values()) {
        assertThat(broker.memory().requestBuffers().inUse(c)).as("%s frames in use", c).isZero();
      }
    } finally {
      ((Logger) LoggerFactory.getLogger(ResourceLeakDetector.class)).detachAppender(leaks);
    }
  }

  private static Level setPressure(int heapPercent) {
    return broker
        .memory()
        .useUsageSource(() -> new MemoryReading(heapPercent * 10L, 1000, 0, 1000));
  }

  @Test
  void concurrentProducersWaitForProduceMemoryAndLoseNothing() throws Exception {
    final ProduceMemoryPool pool = broker.memory().produceMemory();
    final long waitsBefore = pool.waits();
    final int producers = 4;
    final int perProducer = 5_000;
    final List<Thread> threads = new ArrayList<>();
    final List<Throwable> failures = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      final int id = p;
      threads.add(new Thread(() -> produceAll(id, perProducer, failures), "producer-" + p));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join(TimeUnit.MINUTES.toMillis(3));
    }
    assertThat(failures).isEmpty();
    assertThat(pool.waits())
        .as("requests that waited for produce memory")
        .isGreaterThan(waitsBefore);
    assertThat(pool.usedBytes()).isZero();
    assertThat(
            TopicValues.readFromStart(
                cluster.bootstrap(),
                "stall",
                8,
                Duration.ofSeconds(120),
                new HashSet<>(),
                v -> v.size() >= producers * perProducer))
        .hasSize(producers * perProducer);
  }

  private static void produceAll(int id, int count, List<Throwable> failures) {
    final Properties props = KafkaClientsTest.producerProps(cluster.bootstrap());
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(PRODUCE_MEMORY / 2));
    props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      final List<Future<RecordMetadata>> sent = new ArrayList<>();
      final String padding = "x".repeat(200);
      for (int i = 0; i < count; i++) {
        sent.add(producer.send(new ProducerRecord<>("stall", i % 8, null, id + "-" + i + padding)));
      }
      for (Future<RecordMetadata> f : sent) {
        f.get(120, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      synchronized (failures) {
        failures.add(e);
      }
    }
  }

  @Test
  void produceWaitingForMemoryIsAnsweredOnceMemoryReturns() throws Exception {
    final ProduceMemoryPool pool = broker.memory().produceMemory();
    assertThat(pool.reserveOrWait(PRODUCE_MEMORY, () -> {})).isNull(); // exhaust it
    final CountDownLatch released = new CountDownLatch(1);
    final Thread releaser =
        new Thread(
            () -> {
              sleep(500);
              pool.release(PRODUCE_MEMORY);
              released.countDown();
            });
    try (RawKafkaClient client = new RawKafkaClient(broker.kafkaPort())) {
      final long start = System.nanoTime();
      releaser.start();
      final ProduceResponse response = (ProduceResponse) client.call(produce("pressure", 1000));
      assertThat(released.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(partitionError(response)).isEqualTo(Errors.NONE);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThan(400);
    }
    assertThat(pool.usedBytes()).isZero();
  }

  @Test
  void produceWaitingTooLongIsAnsweredRetriablyAndTheConnectionGoesOn() throws Exception {
    final ProduceMemoryPool pool = broker.memory().produceMemory();
    final long timeoutsBefore = pool.timeouts();
    assertThat(pool.reserveOrWait(PRODUCE_MEMORY, () -> {})).isNull();
    try (RawKafkaClient client = new RawKafkaClient(broker.kafkaPort())) {
      final RequestHeader produced = client.send(produce("pressure", 1000));
      final RequestHeader versions =
          client.send(new ApiVersionsRequest(new ApiVersionsRequestData(), (short) 3));
      final long start = System.nanoTime();
      final ProduceResponse response = (ProduceResponse) client.receive(produced);
      assertThat(partitionError(response)).isEqualTo(Errors.REQUEST_TIMED_OUT);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
          .isGreaterThan(MAX_BLOCK_MS / 2);
      assertThat(client.receive(versions).errorCounts()).containsOnlyKeys(Errors.NONE);
    } finally {
      pool.release(PRODUCE_MEMORY);
    }
    assertThat(pool.timeouts()).isEqualTo(timeoutsBefore + 1);
    assertThat(pool.usedBytes()).isZero();
  }

  @Test
  void produceIsThrottledAtWarningAndHighAndRefusedAtCritical() throws Exception {
    try (RawKafkaClient client = new RawKafkaClient(broker.kafkaPort())) {
      assertThat(setPressure(50)).isEqualTo(Level.NORMAL);
      assertThat(throttle(client.call(produce("pressure", 100)))).isZero();
      assertThat(setPressure(75)).isEqualTo(Level.WARNING);
      assertThat(throttle(client.call(produce("pressure", 100)))).isEqualTo(10);
      assertThat(setPressure(90)).isEqualTo(Level.HIGH);
      final ProduceResponse high = (ProduceResponse) client.call(produce("pressure", 100));
      assertThat(throttle(high)).isEqualTo(100);
      assertThat(partitionError(high)).isEqualTo(Errors.NONE);
      assertThat(setPressure(97)).isEqualTo(Level.CRITICAL);
      final ProduceResponse critical = (ProduceResponse) client.call(produce("pressure", 100));
      assertThat(partitionError(critical)).isEqualTo(Errors.REQUEST_TIMED_OUT);
      assertThat(
              critical
                  .data()
                  .responses()
                  .iterator()
                  .next()
                  .partitionResponses()
                  .get(0)
                  .errorMessage())
          .contains("memory pressure");
    }
  }

  @Test
  void kafkaProducerRetriesThroughCriticalPressure() throws Exception {
    setPressure(97);
    final Properties props = KafkaClientsTest.producerProps(cluster.bootstrap());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      final Future<RecordMetadata> sent =
          producer.send(new ProducerRecord<>("pressure", 0, "k", "through-critical"));
      Thread.sleep(1_500);
      assertThat(sent).isNotDone();
      setPressure(10);
      assertThat(sent.get(60, TimeUnit.SECONDS).offset()).isNotNegative();
      final double retries =
          (double)
              producer.metrics().entrySet().stream()
                  .filter(e -> e.getKey().name().equals("record-retry-total"))
                  .findFirst()
                  .orElseThrow()
                  .getValue()
                  .metricValue();
      assertThat(retries).isPositive();
    }
  }

  @Test
  void fetchSizesAreHalvedFromHigh() throws Exception {
    try (RawKafkaClient client = new RawKafkaClient(broker.kafkaPort())) {
      for (int i = 0; i < 12; i++) {
        assertThat(partitionError((ProduceResponse) client.call(produce("pressure", 1000))))
            .isEqualTo(Errors.NONE);
      }
      final int normal = fetchedBytes(client, 8000);
      setPressure(90);
      final int high = fetchedBytes(client, 8000);
      assertThat(normal).isGreaterThan(4000).isLessThanOrEqualTo(8000);
      assertThat(high).isPositive().isLessThanOrEqualTo(4000);
    }
  }

  @Test
  void otherRequestsAreThrottledHalfASecondAtCritical() throws Exception {
    try (RawKafkaClient client = new RawKafkaClient(broker.kafkaPort())) {
      setPressure(97);
      final ApiVersionsRequest request =
          new ApiVersionsRequest(new ApiVersionsRequestData(), (short) 3);
      client.call(request);
      final long start = System.nanoTime();
      client.call(new ApiVersionsRequest(new ApiVersionsRequestData(), (short) 3));
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThan(450);
    }
  }

  @Test
  void adminEndpointReportsTheMemoryProfile() throws Exception {
    final java.net.http.HttpResponse<String> response =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://127.0.0.1:" + broker.adminPort() + "/v1/memory"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body())
        .startsWith("{\"tier\":\"small\"")
        .contains("\"level\":\"NORMAL\"")
        .contains("\"request_pool\":{\"small\":{\"capacity\":4096,")
        .contains("\"total_bytes\":" + PRODUCE_MEMORY)
        .contains("\"warnings\":[]")
        .contains("\"partitions\":")
        .contains("\"node_id\":1")
        .contains("{\"name\":\"produce memory\",\"unit\":\"bytes\",\"used_bytes\":")
        .contains("{\"name\":\"index mmap\",\"unit\":\"bytes\"")
        .contains("{\"name\":\"offset cache\",\"unit\":\"bytes\",\"used_bytes\":")
        .contains("{\"name\":\"partitions\",\"unit\":\"count\"")
        .contains("\"leak_warnings\":[]")
        .contains("\"advice\":[]")
        .endsWith("}");
  }

  private static int fetchedBytes(RawKafkaClient client, int maxBytes) throws Exception {
    final FetchRequestData data =
        new FetchRequestData()
            .setReplicaId(-1)
            .setMaxWaitMs(0)
            .setMinBytes(0)
            .setMaxBytes(maxBytes)
            .setIsolationLevel((byte) 0);
    data.topics()
        .add(
            new FetchRequestData.FetchTopic()
                .setTopic("pressure")
                .setPartitions(
                    List.of(
                        new FetchRequestData.FetchPartition()
                            .setPartition(0)
                            .setFetchOffset(0)
                            .setPartitionMaxBytes(maxBytes))));
    final FetchResponse response = (FetchResponse) client.call(new FetchRequest(data, (short) 12));
    final FetchResponseData.PartitionData partition =
        response.data().responses().get(0).partitions().get(0);
    assertThat(partition.errorCode()).isEqualTo(Errors.NONE.code());
    return partition.records().sizeInBytes();
  }

  private static ProduceRequest produce(String topic, int valueBytes) {
    final byte[] value = "v".repeat(valueBytes).getBytes(StandardCharsets.UTF_8);
    final ProduceRequestData data =
        new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
    final ProduceRequestData.TopicProduceData topicData =
        new ProduceRequestData.TopicProduceData().setName(topic);
    topicData
        .partitionData()
        .add(
            new ProduceRequestData.PartitionProduceData()
                .setIndex(0)
                .setRecords(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(value))));
    data.topicData().add(topicData);
    return new ProduceRequest(data, (short) 9);
  }

  private static int throttle(org.apache.kafka.common.requests.AbstractResponse response) {
    return response.throttleTimeMs();
  }

  private static Errors partitionError(ProduceResponse response) {
    final ProduceResponseData.PartitionProduceResponse p =
        response.data().responses().iterator().next().partitionResponses().get(0);
    return Errors.forCode(p.errorCode());
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
