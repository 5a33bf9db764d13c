package io.skiff.bench.sbs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the broker processes' {@code /proc/<pid>/stat} (CPU time) and {@code /proc/<pid>/status}
 * (resident memory, threads), summed over the brokers of one cluster, and samples the sums every
 * 500 ms on its own daemon thread ({@code sbs-broker-sampler}) from {@link #start} to {@link
 * #stop}, keeping the peaks. The peaks are written by the sampler thread and read after {@link
 * #stop} has joined it.
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

  /** utime + stime of all brokers, in seconds. */
  double cpuSeconds() {
    long ticks = 0;
    for (long pid : pids) {
      try {
        final String stat =
            String.join(" ", Files.readAllLines(Path.of("/proc", pid + "", "stat")));
        // Field 2 (the command) is in parentheses and may hold spaces: split after it. Then
        // f[0] is field 3 (state), so utime (field 14) is f[11] and stime (field 15) f[12].
        final String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
      } catch (IOException | RuntimeException e) {
        throw new IllegalStateException("broker pid " + pid + " is gone: " + e.getMessage(), e);
      }
    }
    return ticks / (double) CLOCK_TICKS_PER_SECOND;
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
