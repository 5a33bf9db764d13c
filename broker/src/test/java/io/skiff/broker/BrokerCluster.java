package io.skiff.broker;

import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import io.skiff.testing.ListenPorts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Real brokers in this JVM on loopback, each with its own data directory, for tests (the broker
 * tests, and the command-line tests through this module's test jar). Not thread-safe.
 */
public final class BrokerCluster implements AutoCloseable {
  private final Path root;
  private final String voters;
  private final int defaultReplicationFactor;
  private final Map<String, String> overrides;
  private final Map<Integer, Map<String, String>> configs = new TreeMap<>();
  private final Map<Integer, Broker> brokers = new TreeMap<>();

  /** {@code size} brokers, every one a metadata voter (so 1, 3 or 5). */
  public BrokerCluster(Path root, int size, Map<String, String> overrides) throws Exception {
    this(root, size, size, overrides);
  }

  /**
   * {@code size} brokers of which the first {@code voters} (1, 3 or 5) are the metadata voters; the
   * others join the metadata group as listeners, by their configuration alone.
   */
  public BrokerCluster(Path root, int size, int voters, Map<String, String> overrides)
      throws Exception {
    this(root, size, voters, overrides, true);
  }

  /**
   * {@code size} brokers, every one a metadata voter, configured but not started: the test starts
   * each with {@link #start(int)} when it wants.
   */
  static BrokerCluster configured(Path root, int size, Map<String, String> overrides)
      throws Exception {
    return new BrokerCluster(root, size, size, overrides, false);
  }

  private BrokerCluster(
      Path root, int size, int voters, Map<String, String> overrides, boolean startAll)
      throws Exception {
    this.root = root;
    this.overrides = Map.copyOf(overrides);
    this.defaultReplicationFactor = Math.min(3, size);
    final Map<Integer, Integer> raftPorts = new TreeMap<>();
    for (int id = 1; id <= size; id++) {
      raftPorts.put(id, ListenPorts.free());
    }
    this.voters =
        raftPorts.entrySet().stream()
            .filter(e -> e.getKey() <= voters)
            .map(e -> e.getKey() + "@127.0.0.1:" + e.getValue())
            .collect(Collectors.joining(","));
    for (int id = 1; id <= size; id++) {
      configs.put(id, config(id, raftPorts.get(id)));
    }
    if (!startAll) {
      return;
    }
    final List<Thread> starters =
        configs.keySet().stream().map(id -> new Thread(() -> startQuietly(id))).toList();
    starters.forEach(Thread::start);
    for (Thread t : starters) {
      t.join();
    }
    if (brokers.size() != size) {
      close();
      throw new IllegalStateException(
          "only " + brokers.size() + " of " + size + " brokers started");
    }
  }

  private Map<String, String> config(int id, int raftPort) {
    final Map<String, String> c = new HashMap<>();
    c.put("node.id", Integer.toString(id));
    c.put("listener.host", "127.0.0.1");
    c.put("listener.port", Integer.toString(ListenPorts.free()));
    c.put("raft.port", Integer.toString(raftPort));
    c.put("admin.port", "0");
    c.put("log.dirs", root.resolve("broker-" + id).toString());
    c.put("metadata.voters", voters);
    c.put("default.replication.factor", Integer.toString(defaultReplicationFactor));
    c.put("num.io.threads", "4");
    c.put("num.network.threads", "2");
    // Tests place leaders themselves; a test of the preferred-leader elector turns it on.
    c.put("auto.leader.rebalance.enable", "false");
    c.putAll(overrides);
    return c;
  }

  /**
   * Starts a new broker {@code id} in the running cluster with only its configuration (the same
   * voters and settings as the others): it joins the metadata group as a listener and registers.
   */
  public Broker addBroker(int id) throws Exception {
    if (configs.containsKey(id)) {
      throw new IllegalArgumentException("broker " + id + " is configured already");
    }
    configs.put(id, config(id, ListenPorts.free()));
    return start(id);
  }

  private void startQuietly(int id) {
    try {
      start(id);
    } catch (Exception e) {
      throw new IllegalStateException("broker " + id + " failed to start", e);
    }
  }

  /** Starts broker {@code id}, configured before, on its data and ports. */
  public Broker start(int id) throws Exception {
    final Broker broker = Broker.start(BrokerConfig.fromMap(configs.get(id)));
    synchronized (brokers) {
      brokers.put(id, broker);
    }
    return broker;
  }

  public void stop(int id) {
    final Broker broker;
    synchronized (brokers) {
      broker = brokers.remove(id);
    }
    if (broker != null) {
      broker.close();
    }
  }

  /** Stops broker {@code id} and starts it again on the same data and ports. */
  public Broker restart(int id) throws Exception {
    stop(id);
    return start(id);
  }

  /** Stops a broker as SIGTERM does: leaderships handed over, requests answered, then closed. */
  void shutdownGracefully(int id) {
    final Broker broker;
    synchronized (brokers) {
      broker = brokers.remove(id);
    }
    if (broker != null) {
      broker.shutdown(Duration.ofSeconds(10));
    }
  }

  /**
   * Asks the partition's group to hand leadership to broker {@code to} until that broker leads; a
   * transfer can fail when an election or a configuration change gets there first.
   */
  void moveLeadership(PartitionId id, int to, Duration timeout) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    while (!broker(to).raft().partition(id).map(ReplicatedPartition::isLeaderReady).orElse(false)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("leadership of " + id + " did not move to broker " + to);
      }
      try {
        broker(to).raft().membership().transferLeadership(id, to, Duration.ofSeconds(5));
      } catch (IOException | RuntimeException e) {
        Thread.sleep(100); // the group is busy; ask again
      }
    }
  }

  Broker broker(int id) {
    return brokers.get(id);
  }

  List<Integer> runningIds() {
    synchronized (brokers) {
      return List.copyOf(brokers.keySet());
    }
  }

  /** Bootstrap servers of every configured broker (running or not), as clients are given. */
  public String bootstrap() {
    return configs.values().stream()
        .map(c -> "127.0.0.1:" + c.get("listener.port"))
        .collect(Collectors.joining(","));
  }

  /**
   * Waits until every running broker's metadata image shows the topic: CreateTopics answers once
   * the broker that received it sees the topic, and the others apply it a moment later.
   */
  public void awaitTopic(String name, Duration timeout) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    for (int id : runningIds()) {
      while (broker(id).raft().metadata().image().topic(name).isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("broker " + id + " never saw topic " + name);
        }
        Thread.sleep(20);
      }
    }
  }

  /**
   * Waits until every running broker knows topic {@code name} and each of its partitions has a
   * leader ready to take writes on a running broker: a new partition's first election ends after
   * CreateTopics answers, and until then a produce is answered NOT_LEADER_OR_FOLLOWER.
   */
  public void awaitLeaders(String name, Duration timeout) throws InterruptedException {
    final long deadline = System.nanoTime() + timeout.toNanos();
    awaitTopic(name, timeout);
    final int partitions =
        broker(runningIds().get(0))
            .raft()
            .metadata()
            .image()
            .topic(name)
            .orElseThrow()
            .partitionCount();
    for (int partition = 0; partition < partitions; partition++) {
      while (readyLeader(name, partition).isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no leader for " + name + "-" + partition + " after " + timeout);
        }
        Thread.sleep(20);
      }
    }
  }

  /**
   * The replica of {@code topic}-{@code partition} that a running broker leads, ready for writes.
   */
  Optional<ReplicatedPartition> readyLeader(String topic, int partition) {
    return runningIds().stream()
        .flatMap(id -> replica(id, topic, partition).stream())
        .filter(ReplicatedPartition::isLeaderReady)
        .findFirst();
  }

  /**
   * The partitions of {@code topic} (of {@code partitions}) whose ready leader is broker {@code
   * id}.
   */
  List<Integer> ledBy(int id, String topic, int partitions) {
    final List<Integer> led = new ArrayList<>();
    for (int partition = 0; partition < partitions; partition++) {
      if (replica(id, topic, partition).map(ReplicatedPartition::isLeaderReady).orElse(false)) {
        led.add(partition);
      }
    }
    return led;
  }

  /** Broker {@code id}'s replica of {@code topic}-{@code partition}, if it hosts one. */
  Optional<ReplicatedPartition> replica(int id, String topic, int partition) {
    final Broker broker = broker(id);
    return broker
        .raft()
        .metadata()
        .image()
        .topic(topic)
        .flatMap(t -> broker.raft().partition(t.partition(partition)));
  }

  /** The admin HTTP address of a running broker. */
  public String admin(int id) {
    return "127.0.0.1:" + broker(id).adminPort();
  }

  @Override
  public void close() {
    for (int id : runningIds()) {
      stop(id);
    }
  }
}
