package io.skiff.bench.sbs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Three Skiff brokers started the way {@code ./skiff dev} starts them: one process per broker
 * through {@code ./skiff broker --config FILE} with the dev tier's JVM options ({@code
 * deploy/jvm/dev.options}, 1 GiB heap), RF=3 and {@code min.insync.replicas=2} by default, three
 * {@code __consumer_offsets} partitions, logging as shipped. Ports are free ones picked at start;
 * data lives in a temp directory deleted on {@link #close()}. The launcher {@code exec}s the JVM,
 * so each child process id is the broker JVM's. Not thread-safe.
 */
final class SkiffCluster implements BenchCluster {
  private static final int BROKERS = 3;
  private static final long READY_TIMEOUT_MS = 180_000;

  private final Path dir;
  private final List<Process> brokers = new ArrayList<>();
  private final List<ProcessBuilder> launchers = new ArrayList<>();
  private final String bootstrap;

  private SkiffCluster(Path dir, String bootstrap) {
    this.dir = dir;
    this.bootstrap = bootstrap;
  }

  /**
   * Starts the brokers and waits until each logs {@code Skiff broker N ready}.
   *
   * @param heap the heap for every broker; the dev tier's own 1g unless this differs
   */
  static SkiffCluster start(Path skiffHome, String heap) throws IOException, InterruptedException {
    final Path jar = skiffHome.resolve("broker/target/skiff-broker-0.1.0-SNAPSHOT.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "Skiff is not built: ./mvnw -B -q -DskipTests package -pl broker,bench -am");
    }
    final int base = LoopbackPorts.freeBase(0, 1, 2, 100, 101, 102, 200, 201, 202);
    final StringBuilder voters = new StringBuilder();
    final StringBuilder bootstrap = new StringBuilder();
    for (int i = 1; i <= BROKERS; i++) {
      final int port = base + 100 * (i - 1);
      voters.append(i > 1 ? "," : "").append(i).append("@127.0.0.1:").append(port + 1);
      bootstrap.append(i > 1 ? "," : "").append("127.0.0.1:").append(port);
    }
    final SkiffCluster cluster =
        new SkiffCluster(Files.createTempDirectory("skiff-sbs-"), bootstrap.toString());
    try {
      for (int i = 1; i <= BROKERS; i++) {
        cluster.startBroker(skiffHome, heap, i, base + 100 * (i - 1), voters.toString());
      }
      for (int i = 1; i <= BROKERS; i++) {
        cluster.awaitReady(i);
      }
      return cluster;
    } catch (IOException | RuntimeException | InterruptedException e) {
      cluster.close();
      throw e;
    }
  }

  private void startBroker(Path skiffHome, String heap, int id, int port, String voters)
      throws IOException {
    final Path brokerDir = Files.createDirectories(dir.resolve("broker-" + id));
    final Path config = brokerDir.resolve("server.properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "node.id=" + id,
            "skiff.tier=dev",
            "listener.host=127.0.0.1",
            "listener.port=" + port,
            "raft.port=" + (port + 1),
            "admin.port=" + (port + 2),
            "log.dirs=" + brokerDir.resolve("data"),
            "metadata.voters=" + voters,
            "auto.create.topics.enable=true",
            "num.partitions=1",
            "default.replication.factor=3",
            "min.insync.replicas=2",
            "offsets.topic.num.partitions=3",
            // As kafka-peer.sh sets it for Kafka: a new group's first join is not held back.
            "group.initial.rebalance.delay.ms=0",
            ""),
        StandardCharsets.UTF_8);
    final ProcessBuilder pb =
        new ProcessBuilder(
                skiffHome.resolve("skiff").toString(), "broker", "--config", config.toString())
            .directory(skiffHome.toFile())
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(brokerDir.resolve("broker.log").toFile()));
    pb.environment().put("SKIFF_TIER", "dev");
    if (!heap.equalsIgnoreCase("1g")) {
      pb.environment().put("JAVA_OPTS", "-Xms" + heap + " -Xmx" + heap);
    }
    launchers.add(pb);
    brokers.add(pb.start());
  }

  @Override
  public void kill(int id) throws InterruptedException {
    brokers.get(id - 1).destroyForcibly().waitFor();
  }

  @Override
  public void restart(int id) throws IOException {
    brokers.set(id - 1, launchers.get(id - 1).start());
  }

  private void awaitReady(int id) throws IOException, InterruptedException {
    final Path log = dir.resolve("broker-" + id).resolve("broker.log");
    final String ready = "Skiff broker " + id + " ready";
    final long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
    while (true) {
      if (Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(ready)) {
        return;
      }
      if (!brokers.get(id - 1).isAlive() || System.currentTimeMillis() > deadline) {
        throw new IllegalStateException(
            "Skiff broker " + id + " did not become ready; its log: " + log + "\n" + tail(log));
      }
      Thread.sleep(250);
    }
  }

  private static String tail(Path log) throws IOException {
    final List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  @Override
  public String bootstrap() {
    return bootstrap;
  }

  @Override
  public List<Long> pids() {
    return brokers.stream().map(Process::pid).toList();
  }

  @Override
  public List<Path> logs() {
    final List<Path> logs = new ArrayList<>();
    for (int i = 1; i <= brokers.size(); i++) {
      logs.add(dir.resolve("broker-" + i).resolve("broker.log"));
    }
    return logs;
  }

  @Override
  public void close() {
    brokers.forEach(Process::destroy);
    for (Process p : brokers) {
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          System.err.println("skiff broker pid " + p.pid() + " ignored SIGTERM for 30 s; SIGKILL");
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    deleteRecursively(dir);
  }

  static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + root + ": " + e.getMessage());
    }
  }
}
