package io.skiff.bench.raft;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A broker in its own JVM, on this JVM's class path, talking a line protocol: the driver writes
 * commands to its stdin; it answers with {@code @@KEY ...} lines on stdout. Its stderr goes to a
 * file in the run's temp directory. A child exits when its stdin closes, so it cannot outlive the
 * driver by much even if {@link #close()} never runs.
 */
final class ChildJvm implements AutoCloseable {
  /** Prefix of protocol lines on a child's stdout. */
  static final String PREFIX = "@@";

  private static final String ADD_EXPORTS = "java.base/jdk.internal.misc=ALL-UNNAMED";
  private static final String ENABLE_NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

  private final int nodeId;
  private final Process process;
  private final PrintStream stdin;
  private final Path stderr;
  private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
  private final Map<String, String> latest = new ConcurrentHashMap<>();

  private ChildJvm(int nodeId, Process process, Path stderr) {
    this.nodeId = nodeId;
    this.process = process;
    this.stderr = stderr;
    this.stdin = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
    final Thread reader = new Thread(this::readStdout, "child-" + nodeId + "-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code mainClass} with {@code jvmArgs} (heap, stack, ...) and program {@code args}. */
  static ChildJvm start(
      int nodeId, List<String> jvmArgs, Class<?> mainClass, List<String> args, Path tempDir)
      throws IOException {
    final List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--add-exports");
    command.add(ADD_EXPORTS);
    command.add(ENABLE_NATIVE_ACCESS);
    // deploy/jvm/runtime.options: Ratis' shaded Netty and protobuf use sun.misc.Unsafe.
    command.add("--sun-misc-unsafe-memory-access=allow");
    command.addAll(jvmArgs);
    command.add("-Xlog:gc:file=" + tempDir.resolve("node-" + nodeId + ".gc.log"));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    final Path stderr = tempDir.resolve("node-" + nodeId + ".stderr");
    final Process process =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.to(stderr.toFile()))
            .start();
    final ChildJvm child = new ChildJvm(nodeId, process, stderr);
    Runtime.getRuntime().addShutdownHook(new Thread(child::kill, "kill-child-" + nodeId));
    return child;
  }

  int nodeId() {
    return nodeId;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  void send(String command) {
    stdin.println(command);
  }

  /** The latest line with {@code key} (without the prefix and key), or null. */
  String latest(String key) {
    return latest.get(key);
  }

  /**
   * The next protocol line starting with {@code key}, its rest; null on timeout or if the child
   * died (lines with other keys are skipped; {@link #latest} still sees them).
   */
  String await(String key, long timeout, TimeUnit unit) throws InterruptedException {
    final String line = awaitAnyOf(timeout, unit, key);
    return line == null ? null : line.substring(Math.min(line.length(), key.length() + 1));
  }

  /**
   * The next protocol line whose key is one of {@code keys}, whole (key first); null on timeout or
   * if the child died. Lines with other keys are skipped.
   */
  String awaitAnyOf(long timeout, TimeUnit unit, String... keys) throws InterruptedException {
    final long deadline = System.nanoTime() + unit.toNanos(timeout);
    while (true) {
      final long left = deadline - System.nanoTime();
      if (left <= 0) {
        return null;
      }
      final String line =
          messages.poll(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
      if (line == null) {
        if (!process.isAlive() && messages.isEmpty()) {
          return null;
        }
        continue;
      }
      final int space = line.indexOf(' ');
      final String k = space < 0 ? line : line.substring(0, space);
      for (String key : keys) {
        if (k.equals(key)) {
          return line;
        }
      }
    }
  }

  /** The last {@code lines} lines of the child's GC log. */
  String gcLogTail(int lines) {
    return tail(stderr.resolveSibling("node-" + nodeId + ".gc.log"), lines);
  }

  /** The last {@code lines} lines of the child's stderr. */
  String stderrTail(int lines) {
    return tail(stderr, lines);
  }

  private static String tail(Path file, int lines) {
    try {
      final List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }

  private void readStdout() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith(PREFIX)) {
          final String body = line.substring(PREFIX.length());
          final int space = body.indexOf(' ');
          latest.put(
              space < 0 ? body : body.substring(0, space),
              space < 0 ? "" : body.substring(space + 1));
          messages.add(body);
        } else {
          System.err.println("[node-" + nodeId + "] " + line);
        }
      }
    } catch (IOException e) {
      // the child is gone
    }
  }

  void kill() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    stdin.close();
    kill();
  }

  /** A free loopback port (there is a small race until the child binds it). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Creates a temp directory that is deleted at the end, also when the driver is interrupted. */
  static Path tempDir(String prefix) throws IOException {
    final Path dir = Files.createTempDirectory(prefix);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir), "delete-" + prefix));
    return dir;
  }

  /** Deletes a directory tree, best effort. */
  static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      paths
          .sorted(java.util.Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // best effort
                }
              });
    } catch (IOException e) {
      // best effort
    }
  }

  /** Prints a protocol line from a child; flushes at once. */
  static void reply(String key, Object... parts) {
    final StringBuilder b = new StringBuilder(PREFIX).append(key);
    for (Object p : parts) {
      b.append(' ').append(p);
    }
    synchronized (System.out) {
      System.out.println(b);
      System.out.flush();
    }
  }
}
