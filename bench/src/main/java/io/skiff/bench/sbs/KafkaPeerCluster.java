package io.skiff.bench.sbs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Three Apache Kafka 4.4.0 KRaft nodes (combined broker and controller) started by {@code
 * kafka-peer.sh start 3}: G1 with {@code MaxGCPauseMillis=20}, the given heap, root log level WARN,
 * {@code min.insync.replicas=2}, otherwise Kafka's defaults. The script runs in a private {@code
 * PEER} directory on free ports, so it does not disturb other users of the shared peer; the Kafka
 * jars come from {@code /tmp/kafka-peer/libs} when that exists (a symbolic link), otherwise {@code
 * kafka-peer.sh setup} fetches them from Maven Central. Not thread-safe.
 */
final class KafkaPeerCluster implements BenchCluster {
  private static final int NODES = 3;
  private static final Path SHARED_LIBS = Path.of("/tmp/kafka-peer/libs");

  private final Path script;
  private final Path peer;
  private final Map<String, String> env;
  private final String bootstrap;
  private final List<Long> pids = new ArrayList<>();

  private KafkaPeerCluster(Path script, Path peer, Map<String, String> env, String bootstrap) {
    this.script = script;
    this.peer = peer;
    this.env = env;
    this.bootstrap = bootstrap;
  }

  static KafkaPeerCluster start(Path script, String heap) throws IOException, InterruptedException {
    final Path peer = Files.createTempDirectory("kafka-sbs-");
    // kafka-peer.sh: node i listens on BASE+10*i (clients) and BASE+10*i+1 (controller).
    final int base = LoopbackPorts.freeBase(10, 11, 20, 21, 30, 31);
    final Map<String, String> env =
        Map.of(
            "PEER", peer.toString(),
            "KAFKA_PEER_BASE_PORT", Integer.toString(base),
            "KAFKA_PEER_HEAP", heap);
    final StringBuilder bootstrap = new StringBuilder();
    for (int i = 1; i <= NODES; i++) {
      bootstrap.append(i > 1 ? "," : "").append("127.0.0.1:").append(base + 10 * i);
    }
    final KafkaPeerCluster cluster = new KafkaPeerCluster(script, peer, env, bootstrap.toString());
    try {
      if (Files.isDirectory(SHARED_LIBS)) {
        Files.createSymbolicLink(peer.resolve("libs"), SHARED_LIBS);
      } else {
        cluster.runScript(600, "setup");
      }
      cluster.runScript(180, "start", Integer.toString(NODES));
      for (int i = 1; i <= NODES; i++) {
        cluster.pids.add(cluster.pid(i));
      }
      return cluster;
    } catch (IOException | RuntimeException | InterruptedException e) {
      cluster.close();
      throw e;
    }
  }

  private void runScript(int timeoutSeconds, String... args)
      throws IOException, InterruptedException {
    final List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    final Path out = peer.resolve("peer-" + args[0] + ".out");
    final ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().putAll(env);
    final Process p = pb.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "kafka-peer.sh "
              + String.join(" ", args)
              + " failed:\n"
              + Files.readString(out, StandardCharsets.ISO_8859_1));
    }
  }

  private long pid(int node) throws IOException {
    return Long.parseLong(Files.readString(peer.resolve("k" + node + ".pid")).trim());
  }

  @Override
  public void kill(int id) throws InterruptedException {
    final ProcessHandle node =
        ProcessHandle.of(pids.get(id - 1))
            .orElseThrow(() -> new IllegalStateException("Kafka node " + id + " is not running"));
    node.destroyForcibly();
    while (node.isAlive()) {
      Thread.sleep(10);
    }
  }

  /** {@code kafka-peer.sh startone}: the node on its existing data, as after a crash. */
  @Override
  public void restart(int id) throws IOException, InterruptedException {
    runScript(60, "startone", Integer.toString(id));
    pids.set(id - 1, pid(id));
  }

  @Override
  public String bootstrap() {
    return bootstrap;
  }

  @Override
  public List<Long> pids() {
    return List.copyOf(pids);
  }

  @Override
  public List<Path> logs() {
    final List<Path> logs = new ArrayList<>();
    for (int i = 1; i <= NODES; i++) {
      logs.add(peer.resolve("k" + i + ".log"));
    }
    return logs;
  }

  @Override
  public void close() {
    try {
      runScript(90, "stop");
    } catch (IOException | RuntimeException e) {
      System.err.println("kafka-peer.sh stop failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    SkiffCluster.deleteRecursively(peer);
  }
}
