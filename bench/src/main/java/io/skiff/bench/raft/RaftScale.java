package io.skiff.bench.raft;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Footprint of one broker hosting N partition Raft groups: three brokers, each its own JVM ({@link
 * RaftScaleNode}), one topic of N partitions with replication factor 3, so every broker hosts N
 * groups and leads about N/3. Once every group has a ready leader and the cluster has idled, each
 * broker reports threads, heap after GC, direct memory, RSS and idle CPU. Prints tables; everything
 * it writes lives in a temp directory it deletes.
 *
 * <p>Options: {@code --sizes 100,1000,2000}, {@code --idle 20}, {@code --cpu 30}, {@code --election
 * 0=1000,2000;1000=20000,40000} (Raft election timeout min,max in ms: one pair for every size, or
 * per smallest N; heartbeats go out at half the minimum), {@code --jvm "-Xmx1g
 * -XX:MaxDirectMemorySize=4g"} (child JVM flags), {@code --timeout 900} (seconds for all groups of
 * one size to get leaders), {@code --measure-anyway true} (when they do not, measure the brokers as
 * they are, marking the rows with *).
 */
public final class RaftScale {
  private static final String TOPIC = "scale";

  /**
   * Ratis' 1-2 s for small N; from 1000 groups up 20-40 s, so heartbeats (every 10 s) leave CPU for
   * the rest: with 1-2 s or 5-10 s three brokers on two cores fall into election storms before
   * reaching 1000 groups each.
   */
  static final String DEFAULT_ELECTION = "0=1000,2000;1000=20000,40000";

  private RaftScale() {}

  public static void main(String[] args) throws Exception {
    final Map<String, String> opts = parseOptions(args);
    final List<Integer> sizes = new ArrayList<>();
    for (String s : opts.getOrDefault("sizes", "100,1000,2000").split(",")) {
      sizes.add(Integer.parseInt(s.trim()));
    }
    final int idle = Integer.parseInt(opts.getOrDefault("idle", "20"));
    final int cpu = Integer.parseInt(opts.getOrDefault("cpu", "30"));
    final String electionSpec = opts.getOrDefault("election", DEFAULT_ELECTION);
    final List<String> jvm =
        List.of(opts.getOrDefault("jvm", "-Xmx1g -XX:MaxDirectMemorySize=4g").trim().split("\\s+"));
    final int timeout = Integer.parseInt(opts.getOrDefault("timeout", "900"));
    final boolean measureAnyway = Boolean.parseBoolean(opts.getOrDefault("measure-anyway", "true"));

    System.out.println("# RaftScale: 3 brokers (one JVM each), one topic of N partitions, RF=3");
    System.out.println("# child JVM flags: " + String.join(" ", jvm));
    System.out.println(
        "# election timeout (N=min,max ms): "
            + electionSpec
            + "; idle "
            + idle
            + " s; CPU window "
            + cpu
            + " s");
    System.out.println(
        "# nproc="
            + Runtime.getRuntime().availableProcessors()
            + " threads-max="
            + ProcStats.readLine(Path.of("/proc/sys/kernel/threads-max"))
            + " pid_max="
            + ProcStats.readLine(Path.of("/proc/sys/kernel/pid_max"))
            + " vm.max_map_count="
            + ProcStats.readLine(Path.of("/proc/sys/vm/max_map_count")));

    final List<String> table = new ArrayList<>();
    final List<String> failures = new ArrayList<>();
    for (int n : sizes) {
      final int[] election = election(electionSpec, n);
      System.out.println();
      System.out.println("## N=" + n + ", election timeout " + election[0] + "-" + election[1]);
      runSize(n, election[0], election[1], jvm, idle, cpu, timeout, measureAnyway, table, failures);
    }

    System.out.println();
    System.out.println("## Per broker, idle, after every group has a leader (* = not all had one)");
    System.out.println(
        String.format(
            "%6s %6s %5s %4s %8s %8s %8s %9s %9s %9s %7s %6s %8s",
            "N",
            "broker",
            "hosted",
            "led",
            "threads",
            "osThr",
            "heapMiB",
            "directMiB",
            "RSS_MiB",
            "VmSizeMiB",
            "maps",
            "fds",
            "idleCPU%"));
    table.forEach(System.out::println);
    if (!failures.isEmpty()) {
      System.out.println();
      System.out.println("## Failures");
      failures.forEach(System.out::println);
    }
  }

  private static void runSize(
      int n,
      int electionMin,
      int electionMax,
      List<String> jvm,
      int idle,
      int cpu,
      int timeout,
      boolean measureAnyway,
      List<String> table,
      List<String> failures)
      throws IOException, InterruptedException {
    final Path tmp = ChildJvm.tempDir("raftscale-");
    final List<ChildJvm> children = new ArrayList<>();
    try {
      final Map<Integer, Integer> ports = new TreeMap<>();
      for (int id = 1; id <= 3; id++) {
        ports.put(id, ChildJvm.freePort());
      }
      final StringBuilder peers = new StringBuilder();
      ports.forEach(
          (id, port) ->
              peers.append(peers.length() == 0 ? "" : ",").append(id).append("=127.0.0.1:" + port));
      for (int id = 1; id <= 3; id++) {
        children.add(
            ChildJvm.start(
                id,
                jvm,
                RaftScaleNode.class,
                List.of(
                    Integer.toString(id),
                    Integer.toString(ports.get(id)),
                    peers.toString(),
                    tmp.resolve("node-" + id).toString(),
                    TOPIC,
                    Integer.toString(n),
                    Integer.toString(electionMin),
                    Integer.toString(electionMax)),
                tmp));
      }
      for (ChildJvm c : children) {
        final String ready = c.await("READY", 3, TimeUnit.MINUTES);
        if (ready == null) {
          failures.add(failure(n, c, "never became ready", children));
          return;
        }
        System.out.println("node " + c.nodeId() + " pid " + c.pid() + " ready: " + ready);
      }
      final long t0 = System.nanoTime();
      final String topic = children.get(0).await("TOPIC", 5, TimeUnit.MINUTES);
      if (topic == null) {
        failures.add(failure(n, children.get(0), "could not create the topic", children));
        return;
      }
      System.out.println("topic created: " + topic);

      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeout);
      long lastPrint = 0;
      boolean partial = false;
      while (true) {
        int led = 0;
        int minHosted = Integer.MAX_VALUE;
        final StringBuilder line = new StringBuilder();
        for (ChildJvm c : children) {
          final String status = c.latest("STATUS");
          final Map<String, String> s = parseKv(status);
          led += Integer.parseInt(s.getOrDefault("led", "0"));
          minHosted = Math.min(minHosted, Integer.parseInt(s.getOrDefault("hosted", "0")));
          line.append(" | node ").append(c.nodeId()).append(": ").append(status);
        }
        final long elapsed = RaftScaleNode.millisSince(t0);
        if (led >= n && minHosted >= n) {
          System.out.println(
              "all " + n + " groups have ready leaders after " + elapsed + " ms" + line);
          break;
        }
        final ChildJvm dead = children.stream().filter(c -> !c.isAlive()).findFirst().orElse(null);
        if (dead != null) {
          failures.add(failure(n, dead, "a broker died; last status" + line, children));
          return;
        }
        if (System.nanoTime() > deadline) {
          failures.add(
              failure(
                  n,
                  children.get(0),
                  "not all groups led after " + timeout + " s; last status" + line,
                  children));
          if (!measureAnyway) {
            return;
          }
          partial = true;
          System.out.println(
              "measuring anyway: rows marked * are not idle (groups still electing)");
          break;
        }
        if (elapsed - lastPrint >= 10_000) {
          System.out.println("  t=" + elapsed / 1000 + "s" + line);
          lastPrint = elapsed;
        }
        Thread.sleep(1000);
      }

      children.forEach(c -> c.send("MEASURE " + idle + " " + cpu));
      for (ChildJvm c : children) {
        final String result = c.await("RESULT", idle + cpu + 180, TimeUnit.SECONDS);
        if (result == null) {
          failures.add(failure(n, c, "no measurement", children));
          return;
        }
        final List<String> categories = new ArrayList<>();
        final List<String> cpuCategories = new ArrayList<>();
        final List<String> nmt = new ArrayList<>();
        while (true) {
          final String next = awaitAny(c);
          if (next == null || next.equals("DONE")) {
            break;
          }
          if (next.startsWith("THREADCAT ")) {
            categories.add(next.substring("THREADCAT ".length()));
          } else if (next.startsWith("CPUCAT ")) {
            cpuCategories.add(next.substring("CPUCAT ".length()));
          } else if (next.startsWith("NMT ")) {
            nmt.add(next.substring("NMT ".length()));
          }
        }
        final Map<String, String> r = parseKv(result);
        table.add(
            String.format(
                "%6s %6d %5s %4s %8s %8s %8.1f %9.1f %9.1f %9.0f %7s %6s %8s",
                n + (partial ? "*" : ""),
                c.nodeId(),
                r.get("hosted"),
                r.get("led"),
                r.get("threads"),
                r.get("osThreads"),
                mb(r.get("heapUsed")),
                mb(r.get("direct")),
                Long.parseLong(r.get("rssKb")) / 1024.0,
                Long.parseLong(r.get("vmSizeKb")) / 1024.0,
                r.get("maps"),
                r.get("fds"),
                r.get("cpuPercent")));
        System.out.println("node " + c.nodeId() + ": " + result);
        System.out.println("  top thread categories (count name):");
        categories.stream().limit(10).forEach(s -> System.out.println("    " + s));
        System.out.println("  idle CPU by thread category (% of one core, name):");
        cpuCategories.stream().limit(6).forEach(s -> System.out.println("    " + s));
        if (!nmt.isEmpty()) {
          System.out.println("  native memory tracking, committed KB by category:");
          nmt.forEach(s -> System.out.println("    " + s));
        }
      }
    } finally {
      for (ChildJvm c : children) {
        c.close();
      }
      ChildJvm.deleteTree(tmp);
    }
  }

  /**
   * The election timeout for {@code n} groups from a spec like {@code 1000,2000} (every size) or
   * {@code 100=1000,2000;1000=5000,10000} (the entry with the largest N not above {@code n}).
   */
  static int[] election(String spec, int n) {
    int[] chosen = null;
    int chosenN = -1;
    for (String entry : spec.split(";")) {
      final int eq = entry.indexOf('=');
      final int from = eq < 0 ? 0 : Integer.parseInt(entry.substring(0, eq).trim());
      final String[] mm = entry.substring(eq + 1).split(",");
      if (from <= n && from > chosenN) {
        chosenN = from;
        chosen = new int[] {Integer.parseInt(mm[0].trim()), Integer.parseInt(mm[1].trim())};
      }
    }
    if (chosen == null) {
      throw new IllegalArgumentException("no election timeout for N=" + n + " in " + spec);
    }
    return chosen;
  }

  private static String awaitAny(ChildJvm c) throws InterruptedException {
    // THREADCAT, CPUCAT and DONE follow RESULT; read them in order.
    return c.awaitAnyOf(30, TimeUnit.SECONDS, "THREADCAT", "CPUCAT", "NMT", "DONE");
  }

  private static String failure(int n, ChildJvm c, String what, List<ChildJvm> all)
      throws InterruptedException {
    final StringBuilder b = new StringBuilder();
    b.append("N=").append(n).append(": node ").append(c.nodeId()).append(' ').append(what);
    for (ChildJvm other : all) {
      if (other.isAlive()) {
        other.send("THREADS");
        b.append("\n  node ").append(other.nodeId()).append(" top thread categories:");
        int shown = 0;
        String line;
        while ((line = other.awaitAnyOf(60, TimeUnit.SECONDS, "THREADCAT", "DONE")) != null
            && line.startsWith("THREADCAT ")) {
          if (shown++ < 10) {
            b.append("\n    ").append(line.substring("THREADCAT ".length()));
          }
        }
      }
    }
    for (ChildJvm other : all) {
      final String error = other.latest("ERROR");
      if (error != null) {
        b.append("\n  node ").append(other.nodeId()).append(" error: ").append(error);
      }
      b.append("\n  node ")
          .append(other.nodeId())
          .append(other.isAlive() ? " (alive)" : " (dead)")
          .append(" stderr tail:\n")
          .append(indent(other.stderrTail(15)))
          .append("\n  node ")
          .append(other.nodeId())
          .append(" GC log tail:\n")
          .append(indent(other.gcLogTail(8)));
    }
    System.out.println(b);
    return b.toString();
  }

  private static String indent(String s) {
    return s.isEmpty() ? "" : "    " + s.replace("\n", "\n    ");
  }

  private static double mb(String bytes) {
    return bytes == null ? -1 : Long.parseLong(bytes) / 1048576.0;
  }

  static Map<String, String> parseKv(String line) {
    final Map<String, String> m = new LinkedHashMap<>();
    if (line == null) {
      return m;
    }
    for (String part : line.trim().split("\\s+")) {
      final int eq = part.indexOf('=');
      if (eq > 0) {
        m.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    return m;
  }

  static Map<String, String> parseOptions(String[] args) {
    final Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
      }
      opts.put(args[i].substring(2), args[++i]);
    }
    return opts;
  }
}
