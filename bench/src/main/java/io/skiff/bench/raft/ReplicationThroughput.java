package io.skiff.bench.raft;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Replicated throughput and write amplification of the raw Raft layer: three replicas, each its own
 * JVM ({@link ReplicationNode}), one partition with replication factor 3; the leader's JVM appends
 * Kafka v2 batches with {@code acks=all} from several concurrent appenders. Reports MB/s
 * acknowledged, append latency, and per replica the bytes written to disk divided by the bytes
 * produced, (a) from the growth of the files in its data directory by component and (b) from {@code
 * write_bytes} in {@code /proc/<pid>/io}. Runs with fsync on and off.
 *
 * <p>Options: {@code --seconds 30}, {@code --warmup 5}, {@code --inflight 8}, {@code --records 16},
 * {@code --value 1024}, {@code --fsync true,false}, {@code --jvm "-Xmx1g ..."}, {@code --profile
 * false} (sample thread stacks on every replica while producing; the sampling costs some
 * throughput).
 */
public final class ReplicationThroughput {
  private ReplicationThroughput() {}

  public static void main(String[] args) throws Exception {
    final Map<String, String> opts = RaftScale.parseOptions(args);
    final int seconds = Integer.parseInt(opts.getOrDefault("seconds", "30"));
    final int warmup = Integer.parseInt(opts.getOrDefault("warmup", "5"));
    final int inFlight = Integer.parseInt(opts.getOrDefault("inflight", "8"));
    final int records = Integer.parseInt(opts.getOrDefault("records", "16"));
    final int value = Integer.parseInt(opts.getOrDefault("value", "1024"));
    final boolean profile = Boolean.parseBoolean(opts.getOrDefault("profile", "false"));
    final List<String> jvm =
        List.of(
            opts.getOrDefault("jvm", "-Xmx1g -XX:MaxDirectMemorySize=1g -XX:-UsePerfData")
                .trim()
                .split("\\s+"));
    System.out.println("# ReplicationThroughput: 3 replicas (one JVM each), 1 partition, RF=3");
    System.out.println(
        "# "
            + seconds
            + " s after "
            + warmup
            + " s warm-up; "
            + inFlight
            + " appends in flight, acks=all; batches of "
            + records
            + " records x "
            + value
            + " B values; child JVM flags: "
            + String.join(" ", jvm));

    final List<String> summary = new ArrayList<>();
    final List<String> replicas = new ArrayList<>();
    for (String fsync : opts.getOrDefault("fsync", "true,false").split(",")) {
      run(
          Boolean.parseBoolean(fsync.trim()),
          seconds,
          warmup,
          inFlight,
          records,
          value,
          profile,
          jvm,
          summary,
          replicas);
    }
    System.out.println();
    System.out.println("## Throughput (acknowledged batch bytes / s)");
    System.out.println(
        "# device B: bytes written to the block device(s) during the run, all three replicas and"
            + " the file-system journal, after sync; amp(dev) = device B / 3 / bytes produced");
    System.out.println(
        String.format(
            "%6s %10s %9s %9s %9s %9s %9s %9s %12s %9s",
            "fsync",
            "batches",
            "MB/s",
            "MiB/s",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "device B",
            "amp(dev)"));

    summary.forEach(System.out::println);
    System.out.println();
    System.out.println("## Write amplification per replica (bytes written / bytes produced)");
    System.out.println(
        String.format(
            "%6s %5s %8s %12s %8s %12s %8s %12s %8s %6s",
            "fsync",
            "node",
            "role",
            "files(a)",
            "amp(a)",
            "write_bytes",
            "amp(b)",
            "wchar",
            "amp(wch)",
            "cpu%"));
    replicas.forEach(System.out::println);
  }

  private static void run(
      boolean fsync,
      int seconds,
      int warmup,
      int inFlight,
      int records,
      int value,
      boolean profile,
      List<String> jvm,
      List<String> summary,
      List<String> replicaRows)
      throws IOException, InterruptedException {
    System.out.println();
    System.out.println("## fsync=" + fsync);
    final Path tmp = ChildJvm.tempDir("raftthroughput-");
    final List<ChildJvm> children = new ArrayList<>();
    try {
      final Map<Integer, Integer> ports = new TreeMap<>();
      for (int id = 1; id <= 3; id++) {
        ports.put(id, ChildJvm.freePort());
      }
      final StringBuilder peers = new StringBuilder();
      ports.forEach(
          (id, port) ->
              peers
                  .append(peers.length() == 0 ? "" : ",")
                  .append(id)
                  .append("=127.0.0.1:")
                  .append(port));
      for (int id = 1; id <= 3; id++) {
        children.add(
            ChildJvm.start(
                id,
                jvm,
                ReplicationNode.class,
                List.of(
                    Integer.toString(id),
                    Integer.toString(ports.get(id)),
                    peers.toString(),
                    tmp.resolve("node-" + id).toString(),
                    Boolean.toString(fsync)),
                tmp));
      }
      for (ChildJvm c : children) {
        if (c.await("READY", 2, TimeUnit.MINUTES) == null) {
          throw new IllegalStateException(
              "node " + c.nodeId() + " never became ready:\n" + c.stderrTail(20));
        }
      }
      final ChildJvm leader = awaitLeader(children);
      System.out.println("leader: node " + leader.nodeId());

      if (warmup > 0) {
        final Map<String, String> w = produce(leader, warmup, inFlight, records, value, false);
        System.out.println("warm-up: " + w);
        awaitAll(children, Long.parseLong(w.get("lastOffset")));
      }
      for (ChildJvm c : children) {
        c.send("BASELINE");
        if (c.await("BASELINED", 1, TimeUnit.MINUTES) == null) {
          throw new IllegalStateException("node " + c.nodeId() + " did not take a baseline");
        }
      }
      final long device0 = ProcStats.deviceBytesWritten();
      if (profile) {
        children.forEach(c -> c.send("PROFILE " + seconds));
      }
      final Map<String, String> p = produce(leader, seconds, inFlight, records, value, profile);
      System.out.println("produced: " + p);
      if (profile) {
        for (ChildJvm c : children) {
          System.out.println(
              "node "
                  + c.nodeId()
                  + (c == leader ? " (leader)" : " (follower)")
                  + " stack samples (share of samples, thread category, state, top frame):");
          String line;
          while ((line = c.awaitAnyOf(60, TimeUnit.SECONDS, "PROF", "PROFDONE")) != null
              && line.startsWith("PROF ")) {
            System.out.println("    " + line.substring("PROF ".length()));
          }
        }
      }
      awaitAll(children, Long.parseLong(p.get("lastOffset")));
      // Write back what fsync=false left dirty, so the device counter sees all of the run.
      new ProcessBuilder("sync").inheritIO().start().waitFor();
      final long device = ProcStats.deviceBytesWritten() - device0;

      final long produced = Long.parseLong(p.get("bytes"));
      final double elapsed = Double.parseDouble(p.get("seconds"));
      summary.add(
          String.format(
              "%6s %10s %9.1f %9.1f %9.2f %9.2f %9.2f %9.2f %12d %9.3f",
              fsync,
              p.get("acked"),
              produced / elapsed / 1e6,
              produced / elapsed / 1048576.0,
              Long.parseLong(p.get("p50us")) / 1000.0,
              Long.parseLong(p.get("p99us")) / 1000.0,
              Long.parseLong(p.get("p999us")) / 1000.0,
              Long.parseLong(p.get("maxUs")) / 1000.0,
              device,
              (double) device / 3 / produced));
      System.out.println(
          "bytes produced (acknowledged batch bytes): "
              + produced
              + "; record value bytes: "
              + p.get("valueBytes"));
      for (ChildJvm c : children) {
        c.send("MEASURE");
        final Map<String, String> disk = RaftScale.parseKv(c.await("DISK", 2, TimeUnit.MINUTES));
        final Map<String, String> io = RaftScale.parseKv(c.await("IO", 1, TimeUnit.MINUTES));
        long files = 0;
        final StringBuilder parts = new StringBuilder();
        for (Map.Entry<String, String> e : disk.entrySet()) {
          final long bytes = Long.parseLong(e.getValue());
          files += bytes;
          parts.append(
              String.format(
                  "%n    %-16s %14d B  %7.4f x produced",
                  e.getKey(), bytes, (double) bytes / produced));
        }
        final long writeBytes = Long.parseLong(io.get("write_bytes"));
        final long wchar = Long.parseLong(io.get("wchar"));
        final String role = c == leader ? "leader" : "follower";
        System.out.println(
            "node "
                + c.nodeId()
                + " ("
                + role
                + ") data-dir growth by component:"
                + parts
                + "\n  /proc/"
                + c.pid()
                + "/io: "
                + io);
        replicaRows.add(
            String.format(
                "%6s %5d %8s %12d %8.3f %12d %8.3f %12d %8.3f %6s",
                fsync,
                c.nodeId(),
                role,
                files,
                (double) files / produced,
                writeBytes,
                (double) writeBytes / produced,
                wchar,
                (double) wchar / produced,
                io.get("cpuPercent")));
      }
    } finally {
      for (ChildJvm c : children) {
        c.close();
      }
      ChildJvm.deleteTree(tmp);
    }
  }

  private static ChildJvm awaitLeader(List<ChildJvm> children) throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (System.nanoTime() < deadline) {
      for (ChildJvm c : children) {
        if ("true".equals(RaftScale.parseKv(c.latest("STATUS")).get("leader"))) {
          return c;
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no leader within a minute");
  }

  private static Map<String, String> produce(
      ChildJvm leader, int seconds, int inFlight, int records, int value, boolean profile)
      throws InterruptedException {
    leader.send(
        "PRODUCE "
            + seconds
            + " "
            + inFlight
            + " "
            + records
            + " "
            + value
            + (profile ? " profile" : ""));
    final String produced = leader.await("PRODUCED", seconds + 120, TimeUnit.SECONDS);
    if (produced == null) {
      throw new IllegalStateException(
          "the leader did not finish producing:\n" + leader.stderrTail(20));
    }
    final Map<String, String> p = RaftScale.parseKv(produced);
    if (!"0".equals(p.get("failed"))) {
      System.out.println(
          "  append failures: " + p.get("failed") + ": " + leader.latest("APPENDERROR"));
    }
    return p;
  }

  private static void awaitAll(List<ChildJvm> children, long offset) throws InterruptedException {
    for (ChildJvm c : children) {
      c.send("AWAIT " + offset);
      final String caught = c.await("CAUGHTUP", 3, TimeUnit.MINUTES);
      if (caught == null || Long.parseLong(RaftScale.parseKv(caught).get("hw")) < offset) {
        System.out.println(
            "  node " + c.nodeId() + " did not reach offset " + offset + ": " + caught);
      }
    }
  }
}
