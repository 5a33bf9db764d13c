package io.skiff.cli;

import io.skiff.log.FetchBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.ApiVersions;
import org.apache.kafka.clients.ClientUtils;
import org.apache.kafka.clients.DefaultHostResolver;
import org.apache.kafka.clients.ManualMetadataUpdater;
import org.apache.kafka.clients.NetworkClient;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.internals.LogContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each partition of a {@link BufferedConsumer} with the {@link LeaderFetcher} of its leader:
 * it looks leaders up with Metadata (through the Admin client), starts one fetcher per leader
 * broker, and takes back the partitions fetchers hand off — a moved leader ({@code
 * NOT_LEADER_OR_FOLLOWER}), a partition the broker does not know yet ({@code
 * UNKNOWN_TOPIC_OR_PARTITION}), an unreachable broker: looked up again and reassigned after a short
 * backoff; {@code OFFSET_OUT_OF_RANGE} below the log start: reset as {@code --from} says (the end
 * for {@code end}, else the log start), above the log end (a new leader still applying what was
 * committed): fetched again at the same offset. Other errors fail the run.
 *
 * <p>Not thread-safe: used by the consuming thread only, but for {@link #handOff}, which fetch
 * threads call. Owns its fetchers and their network clients.
 */
final class LeaderRouter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderRouter.class);
  private static final long RETRY_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  /** A partition waiting for a leader: from {@code offset}, not before {@code notBefore}. */
  private record Waiting(LeaderFetcher.Handoff handoff, long notBefore, long since) {}

  private final Admin admin;
  private final Properties clientProperties;
  private final String topic;
  private final boolean resetToEnd;
  private final long timeoutNanos;
  private final FetchBuffer<TopicPartition> buffer;
  private final Metrics metrics = new Metrics();
  private final Map<Integer, LeaderFetcher> fetchers = new HashMap<>();
  private final ConcurrentLinkedQueue<LeaderFetcher.Handoff> handedOff =
      new ConcurrentLinkedQueue<>();
  private final List<Waiting> waiting = new ArrayList<>();
  private Uuid topicId = Uuid.ZERO_UUID;
  private long leaderChanges;

  LeaderRouter(
      Admin admin,
      Properties clientProperties,
      String topic,
      boolean resetToEnd,
      long timeoutNanos,
      FetchBuffer<TopicPartition> buffer) {
    this.admin = admin;
    this.clientProperties = clientProperties;
    this.topic = topic;
    this.resetToEnd = resetToEnd;
    this.timeoutNanos = timeoutNanos;
    this.buffer = buffer;
  }

  /** Starts fetching {@code partitions} from their offsets, each from its leader. */
  void start(Map<TopicPartition, Long> offsets) {
    final long now = System.nanoTime();
    offsets.forEach(
        (tp, offset) ->
            waiting.add(new Waiting(new LeaderFetcher.Handoff(tp, offset, Errors.NONE), now, now)));
  }

  /** Called by a fetcher's thread when it gives a partition up. */
  void handOff(LeaderFetcher.Handoff handoff) {
    handedOff.add(handoff);
  }

  /**
   * Assigns the partitions whose backoff passed to their leaders' fetchers; returns the offsets the
   * consumer must skip to (partitions reset forward), if any.
   */
  Map<TopicPartition, Long> route() throws Exception {
    final long now = System.nanoTime();
    for (LeaderFetcher.Handoff h; (h = handedOff.poll()) != null; ) {
      waiting.add(new Waiting(checked(h), now + RETRY_BACKOFF_NANOS, now));
    }
    final List<Waiting> due = waiting.stream().filter(w -> w.notBefore() - now <= 0).toList();
    if (due.isEmpty()) {
      return Map.of();
    }
    waiting.removeAll(due);
    final Map<TopicPartition, Long> skips = new HashMap<>();
    final Map<Integer, Node> leaders = leaders();
    for (Waiting w : due) {
      long offset = w.handoff().offset();
      if (w.handoff().error() == Errors.OFFSET_OUT_OF_RANGE) {
        offset = validOffset(w.handoff().partition(), offset);
        skips.put(w.handoff().partition(), offset);
      }
      final Node leader = leaders.get(w.handoff().partition().partition());
      if (leader == null || leader.isEmpty()) {
        if (now - w.since() > timeoutNanos) {
          throw new CliException(
              w.handoff().partition() + " has no leader; tried for longer than --timeout");
        }
        waiting.add(new Waiting(w.handoff(), now + RETRY_BACKOFF_NANOS, w.since()));
        continue;
      }
      if (w.handoff().error() != Errors.NONE) {
        leaderChanges++;
      }
      fetcher(leader)
          .assign(new LeaderFetcher.Assignment(w.handoff().partition(), topicId, offset));
    }
    return skips;
  }

  /** Partitions handed back to find their leader again (a counter). */
  long leaderChanges() {
    return leaderChanges;
  }

  /** Fails the run on an error that retrying cannot cure. */
  private LeaderFetcher.Handoff checked(LeaderFetcher.Handoff h) {
    final Errors error = h.error();
    if (error == Errors.OFFSET_OUT_OF_RANGE || error.exception() instanceof RetriableException) {
      LOG.debug("{} at offset {} handed back: {}", h.partition(), h.offset(), error.name());
      return h;
    }
    throw new CliException(
        "fetching " + h.partition() + " failed: " + error.name() + " (" + error.message() + ")");
  }

  /** The topic's leader per partition, from a fresh Metadata request. */
  private Map<Integer, Node> leaders() throws Exception {
    final TopicDescription description =
        admin
            .describeTopics(List.of(topic))
            .allTopicNames()
            .get(timeoutNanos, TimeUnit.NANOSECONDS)
            .get(topic);
    topicId = description.topicId();
    final Map<Integer, Node> leaders = new HashMap<>();
    for (TopicPartitionInfo p : description.partitions()) {
      if (p.leader() != null) {
        leaders.put(p.partition(), p.leader());
      }
    }
    return leaders;
  }

  /** Where to fetch after OFFSET_OUT_OF_RANGE at {@code offset} (see the class comment). */
  private long validOffset(TopicPartition tp, long offset) throws Exception {
    final long start = listOffset(tp, OffsetSpec.earliest());
    if (offset >= start) {
      return offset; // above the end: a new leader catching up; ask again
    }
    final long reset = resetToEnd ? listOffset(tp, OffsetSpec.latest()) : start;
    LOG.warn(
        "{}: records below offset {} were deleted (retention or DeleteRecords) before they were read; reading on"
            + " from {}",
        tp,
        start,
        reset);
    return reset;
  }

  private long listOffset(TopicPartition tp, OffsetSpec spec) throws Exception {
    return admin
        .listOffsets(Map.of(tp, spec))
        .partitionResult(tp)
        .get(timeoutNanos, TimeUnit.NANOSECONDS)
        .offset();
  }

  private LeaderFetcher fetcher(Node leader) {
    LeaderFetcher fetcher = fetchers.get(leader.id());
    if (fetcher == null) {
      fetcher = new LeaderFetcher(leader, buffer, networkClient(leader), this::handOff);
      fetchers.put(leader.id(), fetcher);
    }
    return fetcher;
  }

  /** A network client that knows only {@code leader}, for that leader's fetcher alone. */
  private NetworkClient networkClient(Node leader) {
    final Properties p = new Properties();
    p.putAll(clientProperties);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    final ConsumerConfig config = new ConsumerConfig(p);
    final String clientId = "skiff-consume-" + leader.id();
    return ClientUtils.createNetworkClient(
        config,
        config.getList(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG),
        clientId,
        metrics,
        clientId,
        new LogContext("[" + clientId + "] "),
        new ApiVersions(),
        Time.SYSTEM,
        1,
        config.getInt(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG),
        null,
        new ManualMetadataUpdater(List.of(leader)),
        new DefaultHostResolver(),
        null,
        null);
  }

  /** Stops every fetcher and closes their clients. */
  @Override
  public void close() {
    fetchers.values().forEach(LeaderFetcher::close);
    fetchers.clear();
    metrics.close();
  }
}
