package io.skiff.bench.raft;

import io.skiff.raft.RaftNode;
import io.skiff.raft.RaftNodeConfig;
import io.skiff.raft.membership.PartitionReconciler;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One broker of {@link RaftScale}, in its own JVM: starts a {@link RaftNode}, joins the metadata
 * group, registers, hosts what the {@link PartitionReconciler} assigns to it; node 1 creates the
 * topic. Reports {@code @@STATUS} every 2 s, and on {@code MEASURE idleSeconds cpuSeconds} its idle
 * footprint as {@code @@RESULT}, {@code @@THREADCAT} and {@code @@CPUCAT} lines.
 *
 * <p>Arguments: {@code nodeId port peers dataDir topic partitions electionMinMs electionMaxMs},
 * where peers is {@code 1=host:port,2=host:port,...}.
 */
public final class RaftScaleNode {
  private static volatile boolean measuring;

  private RaftScaleNode() {}

  public static void main(String[] args) throws Exception {
    Thread.setDefaultUncaughtExceptionHandler(
        (t, e) -> {
          ChildJvm.reply("ERROR", "thread=" + t.getName(), oneLine(e));
          e.printStackTrace();
        });
    final int nodeId = Integer.parseInt(args[0]);
    final int port = Integer.parseInt(args[1]);
    final Map<Integer, String> peers = parsePeers(args[2]);
    final Path dataDir = Path.of(args[3]);
    final String topic = args[4];
    final int partitions = Integer.parseInt(args[5]);
    final int electionMin = Integer.parseInt(args[6]);
    final int electionMax = Integer.parseInt(args[7]);

    final long started = System.nanoTime();
    final RaftNodeConfig config =
        RaftNodeConfig.defaults(nodeId, "127.0.0.1", port, dataDir)
            .withElectionTimeout(electionMin, electionMax);
    final RaftNode node = new RaftNode(config);
    node.start();
    final List<org.apache.ratis.protocol.RaftPeer> voters = new ArrayList<>();
    peers.forEach((id, address) -> voters.add(RaftNode.peer(id, address)));
    final MetadataService metadata = node.startMetadata(voters, List.of());
    metadata.addListener(new PartitionReconciler(node));
    register(metadata, new BrokerInfo(nodeId, "127.0.0.1", 9000 + nodeId, port, "", true));
    ChildJvm.reply("READY", "ms=" + millisSince(started));

    final Thread status = new Thread(() -> reportStatus(node, topic), "bench-status");
    status.setDaemon(true);
    status.start();

    if (nodeId == 1) {
      final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (metadata.image().brokers().size() < peers.size()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("brokers never registered: " + metadata.image());
        }
        Thread.sleep(50);
      }
      final long t0 = System.nanoTime();
      metadata.createTopic(topic, partitions, peers.size(), Map.of()).get(5, TimeUnit.MINUTES);
      ChildJvm.reply("TOPIC", "ms=" + millisSince(t0));
    }

    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        final String[] cmd = line.trim().split("\\s+");
        if (cmd[0].equals("MEASURE")) {
          measure(node, topic, Integer.parseInt(cmd[1]), Integer.parseInt(cmd[2]));
        } else if (cmd[0].equals("THREADS")) {
          for (Map.Entry<String, Integer> c : ProcStats.threadCategories()) {
            ChildJvm.reply("THREADCAT", c.getValue(), c.getKey());
          }
          ChildJvm.reply("DONE");
        } else if (cmd[0].equals("EXIT")) {
          break;
        }
      }
    }
    // stdin closed or EXIT: leave at once; the driver deletes the data directory.
    Runtime.getRuntime().halt(0);
  }

  private static void register(MetadataService metadata, BrokerInfo broker) throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (true) {
      try {
        metadata.registerBroker(broker).get(30, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  private static void reportStatus(RaftNode node, String topic) {
    final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    while (true) {
      try {
        Thread.sleep(2000);
        if (measuring) {
          return;
        }
        final int[] counts = leadership(node, topic);
        ChildJvm.reply(
            "STATUS",
            "hosted=" + counts[0],
            "led=" + counts[1],
            "threads=" + threads.getThreadCount(),
            "rssMB=" + ProcStats.statusKb("VmRSS") / 1024,
            "heapMB="
                + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException | Error e) {
        ChildJvm.reply("STATUSERROR", oneLine(e));
      }
    }
  }

  /** [partition replicas hosted here, partitions this node leads (leader ready)]. */
  static int[] leadership(RaftNode node, String topicName) {
    final Optional<TopicInfo> topic = node.metadata().image().topic(topicName);
    int led = 0;
    if (topic.isPresent()) {
      for (int p = 0; p < topic.get().partitionCount(); p++) {
        final PartitionId id = topic.get().partition(p);
        if (node.partition(id).map(ReplicatedPartition::isLeaderReady).orElse(false)) {
          led++;
        }
      }
    }
    return new int[] {node.partitionCount(), led};
  }

  private static void measure(RaftNode node, String topic, int idleSeconds, int cpuSeconds)
      throws InterruptedException {
    measuring = true;
    Thread.sleep(TimeUnit.SECONDS.toMillis(idleSeconds));

    final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    final Map<Long, Long> cpuBefore = threadCpu(threads);
    final long ticks0 = ProcStats.cpuTicks();
    final long t0 = System.nanoTime();
    Thread.sleep(TimeUnit.SECONDS.toMillis(cpuSeconds));
    final long ticks1 = ProcStats.cpuTicks();
    final double seconds = (System.nanoTime() - t0) / 1e9;
    final Map<Long, Long> cpuAfter = threadCpu(threads);
    final double cpuPercent =
        100.0 * (ticks1 - ticks0) / ProcStats.CLOCK_TICKS_PER_SECOND / seconds;

    // Idle CPU by thread category: which threads are busy when nothing is produced.
    final Map<String, Long> cpuByCategory = new HashMap<>();
    final long[] ids = cpuAfter.keySet().stream().mapToLong(Long::longValue).toArray();
    for (ThreadInfo info : threads.getThreadInfo(ids, 0)) {
      if (info == null) {
        continue;
      }
      final long used =
          cpuAfter.get(info.getThreadId()) - cpuBefore.getOrDefault(info.getThreadId(), 0L);
      cpuByCategory.merge(ProcStats.threadCategory(info.getThreadName()), used, Long::sum);
    }

    final int liveThreads = threads.getThreadCount();
    final long osThreads = ProcStats.osThreads();
    final var categories = ProcStats.threadCategories();
    final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    System.gc();
    System.gc();
    final long heapUsed = memory.getHeapMemoryUsage().getUsed();
    final int[] counts = leadership(node, topic);
    ChildJvm.reply(
        "RESULT",
        "hosted=" + counts[0],
        "led=" + counts[1],
        "threads=" + liveThreads,
        "osThreads=" + osThreads,
        "heapUsed=" + heapUsed,
        "heapCommitted=" + memory.getHeapMemoryUsage().getCommitted(),
        "direct=" + ProcStats.bufferPoolUsed("direct"),
        "mapped=" + ProcStats.bufferPoolUsed("mapped"),
        "nettyDirect=" + ProcStats.nettyDirectUsed(),
        "rssKb=" + ProcStats.statusKb("VmRSS"),
        "vmSizeKb=" + ProcStats.statusKb("VmSize"),
        "maps=" + ProcStats.mapCount(),
        "fds=" + ProcStats.openFds(),
        "cpuPercent=" + String.format("%.2f", cpuPercent),
        "cpuSeconds=" + String.format("%.1f", seconds));
    for (Map.Entry<String, Integer> c : categories) {
      ChildJvm.reply("THREADCAT", c.getValue(), c.getKey());
    }
    ProcStats.nativeMemoryCommittedKb()
        .forEach((category, kb) -> ChildJvm.reply("NMT", kb, category.replace(' ', '_')));
    final List<Map.Entry<String, Long>> byCpu = new ArrayList<>(cpuByCategory.entrySet());
    byCpu.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    for (Map.Entry<String, Long> c : byCpu.subList(0, Math.min(10, byCpu.size()))) {
      ChildJvm.reply(
          "CPUCAT", String.format("%.2f", 100.0 * c.getValue() / 1e9 / seconds), c.getKey());
    }
    ChildJvm.reply("DONE");
  }

  private static Map<Long, Long> threadCpu(ThreadMXBean threads) {
    final Map<Long, Long> cpu = new HashMap<>();
    for (long id : threads.getAllThreadIds()) {
      final long t = threads.getThreadCpuTime(id);
      if (t >= 0) {
        cpu.put(id, t);
      }
    }
    return cpu;
  }

  static Map<Integer, String> parsePeers(String spec) {
    final Map<Integer, String> peers = new java.util.TreeMap<>();
    for (String p : spec.split(",")) {
      final String[] kv = p.split("=", 2);
      peers.put(Integer.parseInt(kv[0]), kv[1]);
    }
    return peers;
  }

  static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  static String oneLine(Throwable e) {
    final StringBuilder b = new StringBuilder();
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (b.length() > 0) {
        b.append(" <- ");
      }
      b.append(c.getClass().getName()).append(": ").append(c.getMessage());
    }
    return b.toString().replace('\n', ' ');
  }
}
