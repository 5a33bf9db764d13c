package io.skiff.cli;

import io.skiff.log.FetchBuffer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.ClientResponse;
import org.apache.kafka.clients.NetworkClient;
import org.apache.kafka.clients.NetworkClientUtils;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the partitions one broker leads into a shared {@link FetchBuffer}, with the Kafka Fetch
 * API (kafka-clients' {@link NetworkClient} and request classes), one request at a time:
 *
 * <pre>
 *   reserve(first partition, waiting) + reserve(others, if room now)
 *     ──Fetch(partition max bytes = reservation)──▶ leader
 *     ◀── per partition: batches ──▶ add(reservation, whole batches); position = last batch + 1
 *                        error   ──▶ cancel(reservation); hand the partition back
 * </pre>
 *
 * <p>Only the first reservation of a request waits for room: a fetcher never holds bytes while
 * waiting for more, so fetchers of several leaders cannot deadlock on the cap. A partition whose
 * leader moved, that the broker does not know, whose offset is out of range, or whose leader is
 * unreachable is {@linkplain Handoff handed back} with its position to the owner, which finds its
 * leader (and offset) again and assigns it to the right fetcher; a partition is fetched by one
 * fetcher at a time, so its chunks enter the buffer in offset order.
 *
 * <p>Thread: one named thread ({@code skiff-consume-fetcher-<broker>}), which alone uses the
 * network client; {@link #assign} and {@link #close} may be called from any thread. The response
 * buffers become the buffer's chunks (not copied).
 */
final class LeaderFetcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderFetcher.class);
  private static final Duration RESERVE_WAIT = Duration.ofMillis(200);
  private static final int MAX_WAIT_MS = 500;

  /** A partition to fetch, from {@code offset}. */
  record Assignment(TopicPartition partition, Uuid topicId, long offset) {}

  /** A partition this fetcher gave up at {@code offset}, and why. */
  record Handoff(TopicPartition partition, long offset, Errors error) {}

  private final Node leader;
  private final FetchBuffer<TopicPartition> buffer;
  private final NetworkClient client;
  private final Consumer<Handoff> handoffs;
  private final LinkedBlockingQueue<Assignment> incoming = new LinkedBlockingQueue<>();
  private final Map<TopicPartition, Assignment> positions = new LinkedHashMap<>(); // fetch thread
  private final Thread thread;
  private volatile boolean closed;

  /**
   * Starts fetching from {@code leader}; {@code client} becomes this fetcher's; {@code handoffs} is
   * called on the fetch thread.
   */
  LeaderFetcher(
      Node leader,
      FetchBuffer<TopicPartition> buffer,
      NetworkClient client,
      Consumer<Handoff> handoffs) {
    this.leader = leader;
    this.buffer = buffer;
    this.client = client;
    this.handoffs = handoffs;
    this.thread = new Thread(this::run, "skiff-consume-fetcher-" + leader.id());
    this.thread.setDaemon(true);
    this.thread.start();
  }

  Node leader() {
    return leader;
  }

  /** Adds a partition to fetch from this leader. */
  void assign(Assignment assignment) {
    incoming.add(assignment);
  }

  private void run() {
    try {
      while (!closed) {
        takeAssignments();
        if (!positions.isEmpty()) {
          fetchOnce();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      client.close();
    }
  }

  private void takeAssignments() throws InterruptedException {
    if (positions.isEmpty()) {
      final Assignment first = incoming.poll(RESERVE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (first != null) {
        positions.put(first.partition(), first);
      }
    }
    for (Assignment a; (a = incoming.poll()) != null; ) {
      positions.put(a.partition(), a);
    }
  }

  /**
   * One request: reserve, send, and queue or hand back what each partition answered. If the request
   * fails (the leader unreachable, an unexpected error), the partitions not yet answered are handed
   * back with the error and their reservations cancelled.
   */
  private void fetchOnce() throws InterruptedException {
    final List<FetchBuffer.Reservation<TopicPartition>> reservations = reserve();
    if (reservations.isEmpty()) {
      return; // the cap is reached: the consumer has to catch up first
    }
    int answered = 0;
    try {
      final ClientResponse response = send(reservations);
      final Map<Uuid, String> names = new LinkedHashMap<>();
      positions.values().forEach(a -> names.put(a.topicId(), a.partition().topic()));
      final FetchResponse fetched = (FetchResponse) response.responseBody();
      final Map<TopicPartition, FetchResponseData.PartitionData> data =
          fetched.responseData(names, response.requestHeader().apiVersion());
      for (FetchBuffer.Reservation<TopicPartition> r : reservations) {
        accept(r, data.get(r.partition()), fetched.error());
        answered++;
      }
    } catch (IOException | RuntimeException e) {
      final Errors error =
          e instanceof IOException ? Errors.NETWORK_EXCEPTION : Errors.forException(e);
      LOG.debug("fetch from broker {} failed: {}", leader.id(), e.toString(), e);
      if (error != Errors.NETWORK_EXCEPTION) {
        LOG.warn("fetch from broker {} failed: {}", leader.id(), e.toString());
      }
      for (FetchBuffer.Reservation<TopicPartition> r :
          reservations.subList(answered, reservations.size())) {
        buffer.cancel(r);
        handBack(r.partition(), error);
      }
    }
  }

  /**
   * Reservations for as many partitions as the cap allows now, in a rotating order; only the first
   * waits. Empty if even the first found no room in time.
   */
  private List<FetchBuffer.Reservation<TopicPartition>> reserve() throws InterruptedException {
    final List<FetchBuffer.Reservation<TopicPartition>> reserved = new ArrayList<>();
    final List<TopicPartition> order = new ArrayList<>(positions.keySet());
    for (TopicPartition tp : order) {
      try {
        reserved.add(buffer.reserve(tp, reserved.isEmpty() ? RESERVE_WAIT : Duration.ZERO));
      } catch (TimeoutException e) {
        break;
      }
    }
    // Rotate so the partitions left out this time come first next time.
    if (!order.isEmpty()) {
      final Assignment head = positions.remove(order.get(0));
      positions.put(head.partition(), head);
    }
    return reserved;
  }

  private ClientResponse send(List<FetchBuffer.Reservation<TopicPartition>> reservations)
      throws IOException {
    final Map<TopicPartition, FetchRequest.PartitionData> fetch = new LinkedHashMap<>();
    int total = 0;
    for (FetchBuffer.Reservation<TopicPartition> r : reservations) {
      final Assignment a = positions.get(r.partition());
      fetch.put(
          r.partition(),
          new FetchRequest.PartitionData(a.topicId(), a.offset(), -1, r.bytes(), Optional.empty()));
      total += r.bytes();
    }
    final FetchRequest.Builder request =
        FetchRequest.Builder.forConsumer(ApiKeys.FETCH.latestVersion(), MAX_WAIT_MS, 1, fetch)
            .isolationLevel(IsolationLevel.READ_UNCOMMITTED)
            .setMaxBytes(total);
    final Time time = Time.SYSTEM;
    if (!NetworkClientUtils.awaitReady(client, leader, time, 10_000)) {
      throw new IOException("broker " + leader.id() + " at " + leader + " did not connect");
    }
    final ClientResponse response =
        NetworkClientUtils.sendAndReceive(
            client,
            client.newClientRequest(
                Integer.toString(leader.id()), request, time.milliseconds(), true),
            time);
    if (!response.hasResponse()) {
      throw new IOException(
          "broker " + leader.id() + (response.wasTimedOut() ? " timed out" : " disconnected"));
    }
    if (response.versionMismatch() != null) {
      throw new IOException("broker " + leader.id() + ": " + response.versionMismatch());
    }
    return response;
  }

  /** Queues a partition's batches under its reservation, or hands the partition back. */
  private void accept(
      FetchBuffer.Reservation<TopicPartition> reservation,
      FetchResponseData.PartitionData data,
      Errors topLevel) {
    final TopicPartition tp = reservation.partition();
    final Errors error =
        topLevel != Errors.NONE
            ? topLevel
            : data == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.forCode(data.errorCode());
    if (error != Errors.NONE) {
      buffer.cancel(reservation);
      handBack(tp, error);
      return;
    }
    final MemoryRecords records = (MemoryRecords) FetchResponse.recordsOrFail(data);
    final ByteBuffer all = records.buffer();
    int whole = 0; // a response may end in a partial batch; only whole ones are queued
    long next = positions.get(tp).offset();
    for (RecordBatch batch : records.batches()) {
      whole += batch.sizeInBytes();
      next = batch.nextOffset();
    }
    buffer.add(reservation, all.slice(all.position(), whole));
    final Assignment a = positions.get(tp);
    positions.put(tp, new Assignment(tp, a.topicId(), next));
  }

  private void handBack(TopicPartition tp, Errors error) {
    final Assignment a = positions.remove(tp);
    handoffs.accept(new Handoff(tp, a.offset(), error));
  }

  /** Stops the fetch thread and waits for it; the partitions it held are dropped. */
  @Override
  public void close() {
    closed = true;
    client.wakeup();
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
