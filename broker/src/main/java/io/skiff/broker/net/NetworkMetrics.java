package io.skiff.broker.net;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * Metrics of the Kafka listener: connections (open, rejected over the limit), requests per API,
 * their time from read to answer per API ({@code kafka.request.time}), requests in flight,
 * malformed input, zero-copy bytes. Updated from every event loop; thread-safe.
 */
public final class NetworkMetrics {
  private final MetricRegistry registry;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Counter malformed;
  private final Counter rejectedConnections;
  private final Counter zeroCopyBytes;
  private final Map<ApiKeys, Meter> requests = new EnumMap<>(ApiKeys.class);
  private final Map<ApiKeys, Timer> requestTimes = new EnumMap<>(ApiKeys.class);

  public NetworkMetrics(MetricRegistry registry) {
    this.registry = registry;
    registry.gauge("kafka.connections", () -> connections::get);
    registry.gauge("kafka.requests.in_flight", () -> inFlight::get);
    this.malformed = registry.counter("kafka.requests.malformed");
    this.rejectedConnections = registry.counter("kafka.connections.rejected");
    this.zeroCopyBytes = registry.counter("fetch.zero_copy.bytes");
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
   * A request answered {@code nanos} after it was read (Kafka's RequestMetrics TotalTimeMs: queue,
   * handling and waiting for replication), as {@code kafka.request.time[api=NAME]}.
   */
  void requestAnswered(ApiKeys key, long nanos) {
    requestAnswered();
    Timer timer;
    synchronized (requestTimes) {
      timer =
          requestTimes.computeIfAbsent(
              key, k -> registry.timer("kafka.request.time[api=" + k.name + "]"));
    }
    timer.update(nanos, TimeUnit.NANOSECONDS);
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
