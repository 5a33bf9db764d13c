package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Garbage on the wire closes that connection only; the broker keeps serving, data stays intact. */
class MalformedInputTest {
  @TempDir Path dir;

  @Test
  void survivesGarbageAndKeepsServing() throws Exception {
    try (BrokerCluster cluster =
        new BrokerCluster(dir, 1, Map.of("auto.create.topics.enable", "true"))) {
      final Broker broker = cluster.broker(1);
      final int port = broker.kafkaPort();
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
        producer.send(new ProducerRecord<>("intact", 0, "k", "before")).get(60, TimeUnit.SECONDS);
      }

      final Random random = new Random(42);
      for (int i = 0; i < 20; i++) {
        final byte[] junk = new byte[8 + random.nextInt(2000)];
        random.nextBytes(junk);
        junk[0] = (byte) 0x7f; // an API key no Kafka version has
        assertClosedAfter(port, frame(junk.length, junk));
      }
      assertClosedAfter(port, frame(Integer.MAX_VALUE, new byte[0])); // oversized frame
      assertClosedAfter(port, frame(-5, new byte[0])); // negative length
      assertClosedAfter(port, frame(request(9999, 0, 1), 10)); // unknown API key
      assertClosedAfter(port, frame(request(0, 99, 2), 10)); // Produce v99
      assertClosedAfter(port, frame(request(3, 12, 3), 10)); // Metadata header, garbage body
      try (Socket truncated = new Socket("127.0.0.1", port)) {
        new DataOutputStream(truncated.getOutputStream()).writeInt(100);
        truncated.getOutputStream().write(new byte[10]); // then hang up mid-frame
      }

      // ApiVersions newer than we know is answered (v0, UNSUPPORTED_VERSION), not dropped.
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        final DataOutputStream out = new DataOutputStream(s.getOutputStream());
        final byte[] header = request(18, 99, 77);
        out.writeInt(header.length);
        out.write(header);
        final DataInputStream in = new DataInputStream(s.getInputStream());
        final int size = in.readInt();
        assertThat(size).isGreaterThan(6);
        assertThat(in.readInt()).isEqualTo(77);
        assertThat(in.readShort()).isEqualTo(Errors.UNSUPPORTED_VERSION.code());
      }

      assertThat(broker.networkMetrics().malformedRequests()).isGreaterThanOrEqualTo(24);
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
        producer.send(new ProducerRecord<>("intact", 0, "k", "after")).get(60, TimeUnit.SECONDS);
      }
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(KafkaClientsTest.consumerProps(cluster.bootstrap()))) {
        final TopicPartition tp = new TopicPartition("intact", 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        final List<String> values = new java.util.ArrayList<>();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (values.size() < 2 && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            values.add(r.value());
          }
        }
        assertThat(values).containsExactly("before", "after");
      }
    }
  }

  /** A request header: api key, version, correlation id, null client id. */
  private static byte[] request(int apiKey, int version, int correlationId) {
    final java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10);
    b.putShort((short) apiKey).putShort((short) version).putInt(correlationId).putShort((short) -1);
    return b.array();
  }

  private static byte[] frame(byte[] header, int garbage) {
    final byte[] body = new byte[header.length + garbage];
    System.arraycopy(header, 0, body, 0, header.length);
    new Random(garbage).nextBytes(java.util.Arrays.copyOfRange(body, header.length, body.length));
    for (int i = header.length; i < body.length; i++) {
      body[i] = (byte) 0xff;
    }
    return frame(body.length, body);
  }

  private static byte[] frame(int length, byte[] body) {
    final java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + body.length);
    b.putInt(length).put(body);
    return b.array();
  }

  /** Sends bytes and expects the broker to close the connection (or to wait for more). */
  private static void assertClosedAfter(int port, byte[] bytes) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(bytes);
      s.getOutputStream().flush();
      final InputStream in = s.getInputStream();
      try {
        assertThat(in.read()).isEqualTo(-1);
      } catch (java.net.SocketException e) {
        // connection reset by the broker: closed
      }
    }
  }
}
