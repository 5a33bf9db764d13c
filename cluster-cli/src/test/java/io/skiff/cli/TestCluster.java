package io.skiff.cli;

import io.skiff.broker.Broker;
import io.skiff.broker.BrokerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Real brokers in the test JVM on loopback, each with its own data directory; the command under
 * test reaches them over their Kafka port only. Not thread-safe.
 */
final class TestCluster implements AutoCloseable {
  private final Map<Integer, Map<String, String>> configs = new TreeMap<>();
  private final Map<Integer, Broker> brokers = new TreeMap<>();

  TestCluster(Path root, int size, Map<String, String> overrides) throws Exception {
    final Map<Integer, Integer> raftPorts = new TreeMap<>();
    for (int id = 1; id <= size; id++) {
      raftPorts.put(id, freePort());
    }
    final String voters =
        raftPorts.entrySet().stream()
            .map(e -> e.getKey() + "@127.0.0.1:" + e.getValue())
            .collect(Collectors.joining(","));
    for (int id = 1; id <= size; id++) {
      final Map<String, String> c = new HashMap<>();
      c.put("node.id", Integer.toString(id));
      c.put("listener.host", "127.0.0.1");
      c.put("listener.port", Integer.toString(freePort()));
      c.put("raft.port", Integer.toString(raftPorts.get(id)));
      c.put("admin.port", "0");
      c.put("log.dirs", root.resolve("broker-" + id).toString());
      c.put("metadata.voters", voters);
      c.put("default.replication.factor", Integer.toString(Math.min(3, size)));
      c.put("offsets.topic.num.partitions", "3");
      c.put("num.io.threads", "4");
      c.put("num.network.threads", "2");
      c.putAll(overrides);
      configs.put(id, c);
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

  private void startQuietly(int id) {
    try {
      final Broker broker = Broker.start(BrokerConfig.fromMap(configs.get(id)));
      synchronized (brokers) {
        brokers.put(id, broker);
      }
    } catch (Exception e) {
      throw new IllegalStateException("broker " + id + " failed to start", e);
    }
  }

  void stop(int id) {
    final Broker broker;
    synchronized (brokers) {
      broker = brokers.remove(id);
    }
    if (broker != null) {
      broker.close();
    }
  }

  String bootstrap() {
    return configs.values().stream()
        .map(c -> "127.0.0.1:" + c.get("listener.port"))
        .collect(Collectors.joining(","));
  }

  String admin(int id) {
    return "127.0.0.1:" + brokers.get(id).adminPort();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    final List<Integer> ids;
    synchronized (brokers) {
      ids = List.copyOf(brokers.keySet());
    }
    ids.forEach(this::stop);
  }
}
