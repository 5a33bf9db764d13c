package io.skiff.chaos;

import io.skiff.testing.ListenPorts;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster of brokers on this machine, each its own JVM process ({@code
 * io.skiff.broker.BrokerMain} with a {@code server.properties} of its own, as {@code ./skiff dev}
 * runs them), so that a nemesis can do to a broker what happens to real ones: {@link #kill} ({@code
 * kill -9}), {@link #stop} ({@code SIGTERM}), {@link #pause} and {@link #resume} ({@code
 * SIGSTOP}/{@code SIGCONT}), {@link #restart}. Each broker's data and {@code broker.log} live under
 * {@code root/broker-<id>/}.
 *
 * <p>The broker processes run on this JVM's class path less the CLI and chaos-test entries (the
 * broker must be on it: chaos-tests has skiff-broker as a test dependency). They die with this JVM
 * (shutdown hook) and in {@link #close()}.
 *
 * <p>Thread-safe: nemeses and tests call it from several threads.
 */
public final class ProcessCluster implements BrokerControl, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessCluster.class);
  private static final String MAIN = "io.skiff.broker.BrokerMain";
  private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
  private static final Duration GRACEFUL_STOP = Duration.ofSeconds(60);
  private static final List<String> JVM_ARGS =
      List.of(
          "-Xms320m",
          "-Xmx320m",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-XX:+ExitOnOutOfMemoryError",
          "--add-exports",
          "java.base/jdk.internal.misc=ALL-UNNAMED",
          "--enable-native-access=ALL-UNNAMED",
          // deploy/jvm/runtime.options: Ratis' shaded Netty and protobuf use sun.misc.Unsafe.
          "--sun-misc-unsafe-memory-access=allow");

  private final Path root;
  private final Map<Integer, Path> configs = new TreeMap<>();
  private final Map<Integer, Integer> kafkaPorts = new TreeMap<>();
  private final Map<Integer, Process> processes = new TreeMap<>();
  private final Thread killer = new Thread(this::destroyAll, "skiff-chaos-kill-brokers");

  private ProcessCluster(Path root) {
    this.root = root;
  }

  /**
   * Starts {@code size} brokers (RF 3, min.insync.replicas 2, like {@code ./skiff dev}) with {@code
   * overrides} added to every broker's properties; returns once all are ready.
   */
  public static ProcessCluster start(Path root, int size, Map<String, String> overrides)
      throws IOException, InterruptedException {
    deleteTree(root);
    final ProcessCluster cluster = new ProcessCluster(root);
    Runtime.getRuntime().addShutdownHook(cluster.killer);
    try {
      cluster.configure(size, overrides);
      for (int id : cluster.configs.keySet()) {
        cluster.launch(id);
      }
      for (int id : cluster.configs.keySet()) {
        cluster.awaitReady(id, 0);
      }
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  private void configure(int size, Map<String, String> overrides) throws IOException {
    final Map<Integer, Integer> raftPorts = new TreeMap<>();
    for (int id = 1; id <= size; id++) {
      raftPorts.put(id, ListenPorts.free());
      kafkaPorts.put(id, ListenPorts.free());
    }
    final String voters =
        raftPorts.entrySet().stream()
            .map(e -> e.getKey() + "@127.0.0.1:" + e.getValue())
            .collect(Collectors.joining(","));
    for (int id = 1; id <= size; id++) {
      final Path dir = Files.createDirectories(root.resolve("broker-" + id));
      final Map<String, String> p = new TreeMap<>();
      p.put("node.id", Integer.toString(id));
      p.put("skiff.tier", "dev");
      p.put("listener.host", "127.0.0.1");
      p.put("listener.port", Integer.toString(kafkaPorts.get(id)));
      p.put("raft.port", Integer.toString(raftPorts.get(id)));
      p.put("admin.port", "0");
      p.put("log.dirs", dir.toString());
      p.put("metadata.voters", voters);
      p.put("default.replication.factor", Integer.toString(Math.min(3, size)));
      p.put("min.insync.replicas", Integer.toString(Math.min(2, size)));
      p.put("offsets.topic.num.partitions", "3");
      p.put("num.io.threads", "4");
      p.put("num.network.threads", "2");
      p.putAll(overrides);
      final Path file = dir.resolve("server.properties");
      Files.writeString(
          file,
          p.entrySet().stream()
              .map(e -> e.getKey() + "=" + e.getValue())
              .collect(Collectors.joining("\n", "", "\n")),
          StandardCharsets.UTF_8);
      configs.put(id, file);
    }
  }

  private void launch(int id) throws IOException {
    final List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_ARGS);
    command.add("-cp");
    command.add(brokerClassPath());
    command.add(MAIN);
    command.add("--config");
    command.add(configs.get(id).toString());
    final File log = log(id).toFile();
    final Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
            .start();
    synchronized (processes) {
      processes.put(id, process);
    }
    LOG.info("broker {} started as pid {}", id, process.pid());
  }

  private static String brokerClassPath() {
    return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> !e.contains("cluster-cli") && !e.contains("chaos-tests"))
        .collect(Collectors.joining(File.pathSeparator));
  }

  /** Waits for the "ready" line a broker prints, looking past {@code fromByte} of its log. */
  private void awaitReady(int id, long fromByte) throws IOException, InterruptedException {
    final String ready = "Skiff broker " + id + " ready";
    final long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (true) {
      final byte[] bytes = Files.readAllBytes(log(id));
      final String tail =
          new String(
              bytes,
              (int) Math.min(fromByte, bytes.length),
              (int) Math.max(0, bytes.length - fromByte),
              StandardCharsets.UTF_8);
      if (tail.contains(ready)) {
        return;
      }
      final Process process = process(id);
      if (process == null || !process.isAlive()) {
        throw new IllegalStateException("broker " + id + " exited while starting; see " + log(id));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "broker " + id + " not ready after " + READY_TIMEOUT + "; see " + log(id));
      }
      Thread.sleep(200);
    }
  }

  /** {@code kill -9}: the broker dies at once, with no shutdown. */
  @Override
  public void kill(int id) throws InterruptedException {
    final Process process = process(id);
    if (process != null && process.isAlive()) {
      resume(id); // a stopped process takes SIGKILL too, but make its death visible now
      process.destroyForcibly().waitFor();
      LOG.info("broker {} killed", id);
    }
  }

  /** {@code SIGTERM}: the broker shuts down gracefully; killed if it is not gone in 60 s. */
  @Override
  public void stop(int id) throws InterruptedException {
    final Process process = process(id);
    if (process != null && process.isAlive()) {
      resume(id);
      process.destroy();
      if (!process.waitFor(GRACEFUL_STOP.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        LOG.warn("broker {} still running {} after SIGTERM; killing it", id, GRACEFUL_STOP);
        process.destroyForcibly().waitFor();
      }
      LOG.info("broker {} stopped (exit {})", id, process.exitValue());
    }
  }

  /** Starts a broker that is not running again, on its old data; returns once it is ready. */
  @Override
  public void restart(int id) throws IOException, InterruptedException {
    final Process process = process(id);
    if (process != null && process.isAlive()) {
      return;
    }
    final long logged = Files.size(log(id));
    launch(id);
    awaitReady(id, logged);
  }

  /** {@code SIGSTOP}: the broker freezes, its sockets open but silent. */
  public void pause(int id) throws IOException, InterruptedException {
    signal(id, "STOP");
  }

  /** {@code SIGCONT}: a paused broker carries on. */
  public void resume(int id) throws InterruptedException {
    try {
      signal(id, "CONT");
    } catch (IOException e) {
      throw new IllegalStateException("cannot resume broker " + id + ": " + e.getMessage(), e);
    }
  }

  private void signal(int id, String signal) throws IOException, InterruptedException {
    final Process process = process(id);
    if (process == null || !process.isAlive()) {
      return;
    }
    final int exit =
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
            .inheritIO()
            .start()
            .waitFor();
    if (exit != 0) {
      throw new IOException("kill -" + signal + " " + process.pid() + " exited " + exit);
    }
  }

  /** Broker ids, 1..size. */
  public List<Integer> ids() {
    return List.copyOf(configs.keySet());
  }

  /** Bootstrap servers of every broker, running or not. */
  public String bootstrap() {
    return kafkaPorts.values().stream()
        .map(port -> "127.0.0.1:" + port)
        .collect(Collectors.joining(","));
  }

  /** The broker's stdout and stderr. */
  public Path log(int id) {
    return root.resolve("broker-" + id).resolve("broker.log");
  }

  private Process process(int id) {
    synchronized (processes) {
      return processes.get(id);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private void destroyAll() {
    synchronized (processes) {
      processes.values().forEach(Process::destroyForcibly);
    }
  }

  /** Resumes paused brokers, then stops every broker (SIGTERM, then SIGKILL after 20 s). */
  @Override
  public void close() {
    final List<Process> running;
    synchronized (processes) {
      running = List.copyOf(processes.values());
    }
    for (int id : ids()) {
      try {
        resume(id);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IllegalStateException e) {
        LOG.warn("{}", e.getMessage());
      }
    }
    running.forEach(Process::destroy);
    for (Process p : running) {
      try {
        if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killer);
    } catch (IllegalStateException e) {
      // the JVM is shutting down and the hook is running
    }
  }
}
