package io.skiff.bench.sbs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the broker processes' {@code /proc/<pid>/stat} (CPU time, also per compiler thread) and
 * {@code /proc/<pid>/status} (resident memory, threads), summed over the brokers of one cluster,
 * and samples the sums every 500 ms on its own daemon thread ({@code sbs-broker-sampler}) from
 * {@link #start} to {@link #stop}, keeping the peaks. The peaks are written by the sampler thread
 * and read after {@link #stop} has joined it.
 */
final class BrokerSampler {
  /** USER_HZ, the unit of utime and stime in {@code /proc/<pid>/stat}: 100 on every Linux ABI. */
  static final int CLOCK_TICKS_PER_SECOND = 100;

  private final List<Long> pids;
  private Thread sampler;
  private volatile boolean running;
  private long peakRssKb;
  private long peakThreads;

  BrokerSampler(List<Long> pids) {
    this.pids = List.copyOf(pids);
  }

  /**
   * CPU time of all brokers, in seconds: {@code seconds} of the whole processes, {@code
   * compilerSeconds} of their JIT compiler threads (HotSpot's {@code C1 CompilerThreadN} and {@code
   * C2 CompilerThreadN}). A compiler thread that HotSpot stops between two readings takes its time
   * out of the second figure only, so the difference of two readings can undercount compilation.
   */
  record Cpu(double seconds, double compilerSeconds) {
    Cpu minus(Cpu earlier) {
      return new Cpu(seconds - earlier.seconds, compilerSeconds - earlier.compilerSeconds);
    }
  }

  Cpu cpu() {
    long ticks = 0;
    long compilerTicks = 0;
    for (long pid : pids) {
      final Path proc = Path.of("/proc", Long.toString(pid));
      try {
        ticks += cpuTicks(proc.resolve("stat"));
      } catch (IOException | RuntimeException e) {
        throw new IllegalStateException("broker pid " + pid + " is gone: " + e.getMessage(), e);
      }
      try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
        for (Path task : tasks) {
          try {
            // The kernel keeps 15 characters of a thread's name: "C2 CompilerThre".
            final String name = Files.readString(task.resolve("comm"));
            if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
              compilerTicks += cpuTicks(task.resolve("stat"));
            }
          } catch (IOException | RuntimeException e) {
            // a thread that ended between the listing and the reading
          }
        }
      } catch (IOException e) {
        throw new IllegalStateException("broker pid " + pid + " is gone: " + e.getMessage(), e);
      }
    }
    return new Cpu(
        ticks / (double) CLOCK_TICKS_PER_SECOND, compilerTicks / (double) CLOCK_TICKS_PER_SECOND);
  }

  /** utime + stime of a {@code /proc/<pid>/stat} or {@code /proc/<pid>/task/<tid>/stat}. */
  private static long cpuTicks(Path stat) throws IOException {
    final String line = Files.readString(stat);
    // Field 2 (the command) is in parentheses and may hold spaces: split after it. Then f[0] is
    // field 3 (state), so utime (field 14) is f[11] and stime (field 15) f[12].
    final String[] f = line.substring(line.lastIndexOf(')') + 2).trim().split("\\s+");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /** The sum over the brokers of a {@code /proc/<pid>/status} field (VmRSS in kB, Threads). */
  long statusSum(String field) {
    long sum = 0;
    for (long pid : pids) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", pid + "", "status"))) {
          if (line.startsWith(field + ":")) {
            sum += Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
          }
        }
      } catch (IOException | RuntimeException e) {
        // a broker that exited mid-sample: the CPU reading reports it
      }
    }
    return sum;
  }

  void start() {
    peakRssKb = 0;
    peakThreads = 0;
    running = true;
    sampler = new Thread(this::sample, "sbs-broker-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  private void sample() {
    while (running) {
      peakRssKb = Math.max(peakRssKb, statusSum("VmRSS"));
      peakThreads = Math.max(peakThreads, statusSum("Threads"));
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Stops sampling; returns {peak RSS in MiB, peak threads}. */
  double[] stop() throws InterruptedException {
    running = false;
    sampler.interrupt();
    sampler.join();
    return new double[] {peakRssKb / 1024.0, peakThreads};
  }
}
