package io.skiff.broker.net;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import io.skiff.broker.admin.LatencyHistogram;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * Metrics of the Kafka listener: connections (open, rejected over the limit), requests per API,
 * their time per API split as Kafka's RequestMetrics does, requests in flight, malformed input,
 * zero-copy bytes, bytes and messages per topic ({@link TopicTraffic}). Updated from every event
 * loop; thread-safe.
 *
 * <pre>
 *   read ──queue──▶ handler starts ──local──▶ handler returns ──remote──▶ answer ready
 *   └──────────────────────────────── total ────────────────────────────────────┘
 *
 *   kafka.request.total.time[api=NAME]   read to answer ready (TotalTimeMs)
 *   kafka.request.queue.time[api=NAME]   read to handler start: admission, produce memory,
 *                                        the connection's in-order queue (RequestQueueTimeMs)
 *   kafka.request.local.time[api=NAME]   the handler's own work on the request thread (LocalTimeMs)
 *   kafka.request.remote.time[api=NAME]  waiting on others: Raft commit of acks=all, a delayed
 *                                        fetch, a forwarded call (RemoteTimeMs)
 * </pre>
 *
 * All four are {@link LatencyHistogram}s. A request answered without its handler (refused under
 * memory pressure, timed out waiting for produce memory) counts in total and queue time only.
 */
public final class NetworkMetrics {
  private final MetricRegistry registry;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Counter malformed;
  private final Counter rejectedConnections;
  private final Counter zeroCopyBytes;
  private final Map<ApiKeys, Meter> requests = new EnumMap<>(ApiKeys.class);
  private final TopicTraffic topicTraffic;
  private final Map<ApiKeys, RequestTimes> requestTimes = new EnumMap<>(ApiKeys.class);

  /** The four histograms of one API. */
  private record RequestTimes(
      LatencyHistogram total,
      LatencyHistogram queue,
      LatencyHistogram local,
      LatencyHistogram remote) {

    static RequestTimes register(MetricRegistry registry, ApiKeys key) {
      return new RequestTimes(
          histogram(registry, "total", key),
          histogram(registry, "queue", key),
          histogram(registry, "local", key),
          histogram(registry, "remote", key));
    }

    private static LatencyHistogram histogram(MetricRegistry registry, String part, ApiKeys key) {
      return registry.register(
          "kafka.request." + part + ".time[api=" + key.name + "]", new LatencyHistogram());
    }
  }

  public NetworkMetrics(MetricRegistry registry) {
    this.registry = registry;
    registry.gauge("kafka.connections", () -> connections::get);
    registry.gauge("kafka.requests.in_flight", () -> inFlight::get);
    this.malformed = registry.counter("kafka.requests.malformed");
    this.rejectedConnections = registry.counter("kafka.connections.rejected");
    this.zeroCopyBytes = registry.counter("fetch.zero_copy.bytes");
    this.topicTraffic = new TopicTraffic(registry);
  }

  /** Bytes and messages per topic ({@link TopicTraffic}). */
  TopicTraffic topicTraffic() {
    return topicTraffic;
  }

  /** Names topics that Produce and Fetch requests name by id only; null for an unknown id. */
  public void resolveTopicIdsWith(Function<Uuid, String> names) {
    topicTraffic.resolveTopicIdsWith(names);
  }

  /**
   * Counts a new connection unless {@code max} are open already, in which case it counts a
   * rejection ({@code kafka.connections.rejected}) and returns false.
   */
  boolean tryConnectionOpened(int max) {
    while (true) {
      final int open = connections.get();
      if (open >= max) {
        rejectedConnections.inc();
        return false;
      }
      if (connections.compareAndSet(open, open + 1)) {
        return true;
      }
    }
  }

  /** Requests read but not yet answered, on every connection: a draining broker waits for 0. */
  public int inFlightRequests() {
    return inFlight.get();
  }

  void requestRead() {
    inFlight.incrementAndGet();
  }

  void requestAnswered() {
    inFlight.decrementAndGet();
  }

  /**
   * A request read at {@code readNanos} whose answer was ready at {@code answeredNanos}; its
   * handler ran from {@code handlerStartNanos} to {@code handlerReturnNanos}, both 0 when it was
   * answered without its handler. Times are {@link System#nanoTime()} readings.
   */
  void requestAnswered(
      ApiKeys key,
      long readNanos,
      long handlerStartNanos,
      long handlerReturnNanos,
      long answeredNanos) {
    requestAnswered();
    RequestTimes times;
    synchronized (requestTimes) {
      times = requestTimes.computeIfAbsent(key, k -> RequestTimes.register(registry, k));
    }
    times.total.record(answeredNanos - readNanos);
    if (handlerStartNanos == 0) {
      times.queue.record(answeredNanos - readNanos);
      return;
    }
    times.queue.record(handlerStartNanos - readNanos);
    times.local.record(handlerReturnNanos - handlerStartNanos);
    times.remote.record(answeredNanos - handlerReturnNanos);
  }

  void connectionClosed() {
    connections.decrementAndGet();
  }

  void malformedRequest() {
    malformed.inc();
  }

  void zeroCopyBytes(long bytes) {
    if (bytes > 0) {
      zeroCopyBytes.inc(bytes);
    }
  }

  void request(ApiKeys key) {
    Meter meter;
    synchronized (requests) {
      meter =
          requests.computeIfAbsent(key, k -> registry.meter("kafka.requests[api=" + k.name + "]"));
    }
    meter.mark();
  }

  /** Bytes sent with sendfile since start. */
  public long zeroCopyBytes() {
    return zeroCopyBytes.getCount();
  }

  public long malformedRequests() {
    return malformed.getCount();
  }

  /** Connections closed at once because the connection limit was reached, since start. */
  public long rejectedConnections() {
    return rejectedConnections.getCount();
  }

  public int connections() {
    return connections.get();
  }
}
