package io.skiff.bench.sbs;

import io.skiff.bench.memory.JfrMemoryReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One JFR recording on every broker JVM, started with {@code jcmd} once the cluster serves and
 * before the warm-up (the same for Skiff and Kafka: no JVM option needed at start), and dumped
 * after each measured workload for that workload's time window.
 *
 * <p>Why not a recording per workload: the first {@code JFR.start} in a JVM loads and compiles the
 * recorder and turns on its events, which deoptimises compiled code that inlined an event's enabled
 * check (the JDK's file and socket I/O events sit on every broker's hot path). Started at the
 * window's beginning, that recompilation ran inside the measurement: in one run the compiler
 * threads took two thirds of Kafka's broker CPU there and its rate fell from 22 to 6 MB/s. Started
 * before the warm-up, it is over before anything is measured.
 *
 * <p>A dump holds whole chunks, so it covers more than the window; {@link
 * JfrMemoryReport#summarise} keeps the window's events only. Default settings plus per-second
 * {@code jdk.ThreadAllocationStatistics} give heap allocated and GC pauses ({@link
 * JfrMemoryReport}); profile settings add CPU and allocation samples for {@link JfrHotspots}. Not
 * thread-safe.
 */
final class JfrRecorder {
  /** How much a broker's recording keeps on disk; more than the longest measured workload. */
  private static final String MAX_AGE = "20m";

  private final String name;
  private final boolean profile;
  private final Path dir;
  private final Set<Long> recording = new HashSet<>();

  JfrRecorder(String name, boolean profile, Path dir) {
    this.name = name;
    this.profile = profile;
    this.dir = dir;
  }

  /**
   * Starts the recording on each of {@code pids} that does not have it yet (a broker restarted by
   * the restart workload is a new process).
   */
  void ensureStarted(List<Long> pids) throws IOException, InterruptedException {
    final List<Long> fresh = new ArrayList<>();
    for (long pid : pids) {
      if (!recording.contains(pid)) {
        fresh.add(pid);
      }
    }
    if (fresh.isEmpty()) {
      return;
    }
    Files.createDirectories(dir);
    jcmdAll(
        fresh,
        pid ->
            List.of(
                "JFR.start",
                "name=" + name,
                "settings=" + (profile ? "profile" : "default"),
                "maxage=" + MAX_AGE,
                "jdk.ThreadAllocationStatistics#period=1s"));
    recording.addAll(fresh);
  }

  /**
   * Writes the recording of each of {@code pids} around {@code [begin, end]} to {@code
   * <dir>/<label>-<pid>.jfr} and returns the files written.
   */
  List<Path> dump(List<Long> pids, String label, Instant begin, Instant end)
      throws IOException, InterruptedException {
    jcmdAll(
        pids,
        pid ->
            List.of(
                "JFR.dump",
                "name=" + name,
                "filename=" + file(label, pid),
                "begin=" + begin,
                "end=" + end));
    final List<Path> files = new ArrayList<>();
    for (long pid : pids) {
      if (Files.isRegularFile(file(label, pid))) {
        files.add(file(label, pid));
      }
    }
    return files;
  }

  private Path file(String label, long pid) {
    return dir.resolve(label + "-" + pid + ".jfr").toAbsolutePath();
  }

  private interface Command {
    List<String> of(long pid);
  }

  /** Runs jcmd on every broker at once (each attach costs a second or so of CPU). */
  private static void jcmdAll(List<Long> pids, Command command)
      throws IOException, InterruptedException {
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
}
