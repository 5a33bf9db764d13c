package io.skiff.bench.sbs;

import io.skiff.bench.memory.JfrMemoryReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A JFR recording on every broker JVM over one workload, started and stopped with {@code jcmd} (the
 * same for Skiff and Kafka: no JVM option needed at start). Default settings plus per-second {@code
 * jdk.ThreadAllocationStatistics} give heap bytes allocated and GC pauses ({@link
 * JfrMemoryReport}); profile settings add CPU samples and allocation samples for {@link
 * JfrHotspots}. Not thread-safe.
 */
final class JfrWindow {
  private final List<Long> pids;
  private final String name;
  private final Path dir;

  private JfrWindow(List<Long> pids, String name, Path dir) {
    this.pids = pids;
    this.name = name;
    this.dir = dir;
  }

  /** Starts a recording named {@code name} on each pid; files go to {@code dir} at stop. */
  static JfrWindow start(List<Long> pids, String name, boolean profile, Path dir)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    final JfrWindow w = new JfrWindow(pids, name, dir);
    w.jcmdAll(
        pid ->
            List.of(
                "JFR.start",
                "name=" + name,
                "settings=" + (profile ? "profile" : "default"),
                "jdk.ThreadAllocationStatistics#period=1s"));
    return w;
  }

  /** Stops the recordings and writes one file per broker: {@code <dir>/<name>-<pid>.jfr}. */
  List<Path> stop() throws IOException, InterruptedException {
    jcmdAll(pid -> List.of("JFR.stop", "name=" + name, "filename=" + file(pid)));
    final List<Path> files = new ArrayList<>();
    for (long pid : pids) {
      if (Files.isRegularFile(file(pid))) {
        files.add(file(pid));
      }
    }
    return files;
  }

  private Path file(long pid) {
    return dir.resolve(name + "-" + pid + ".jfr").toAbsolutePath();
  }

  private interface Command {
    List<String> of(long pid);
  }

  /** Runs jcmd on every broker at once (each attach costs a second or so of CPU). */
  private void jcmdAll(Command command) throws IOException, InterruptedException {
    final List<Process> running = new ArrayList<>();
    final List<String> commands = new ArrayList<>();
    for (long pid : pids) {
      final List<String> args = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
      args.addAll(command.of(pid));
      commands.add(String.join(" ", args));
      running.add(
          new ProcessBuilder(args)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start());
    }
    for (int i = 0; i < running.size(); i++) {
      final Process p = running.get(i);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        System.err.println(
            commands.get(i) + " failed; heap and GC figures of this workload are incomplete");
      }
    }
  }

  /** Heap bytes allocated, summed over the recordings, and every GC pause in them. */
  static JfrMemoryReport.Summary summarise(List<Path> files) throws IOException {
    long allocated = 0;
    final List<Duration> pauses = new ArrayList<>();
    for (Path f : files) {
      final JfrMemoryReport.Summary s = JfrMemoryReport.summarise(f);
      allocated += s.allocatedBytes();
      pauses.addAll(s.pauses());
    }
    pauses.sort(null);
    return new JfrMemoryReport.Summary(allocated, pauses);
  }
}
