package io.skiff.bench.sbs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A running three-broker cluster on 127.0.0.1 that the harness measures. Closing it stops every
 * broker and deletes its data. Not thread-safe: the harness drives one cluster at a time.
 */
interface BenchCluster extends AutoCloseable {
  /** {@code host:port,...} of the brokers' Kafka listeners. */
  String bootstrap();

  /** Process ids of the broker JVMs, for {@code /proc} sampling and {@code jcmd}. */
  List<Long> pids();

  /** The brokers' log files, read for ERROR and WARN counts and kept with failed runs. */
  List<Path> logs();

  /** Kills broker {@code id} (1 to 3) with SIGKILL and waits until its process is gone. */
  void kill(int id) throws InterruptedException;

  /**
   * Starts broker {@code id} again on its data and ports, after {@link #kill}; returns once its
   * process runs, not once it serves. {@link #pids()} then lists the new process.
   */
  void restart(int id) throws IOException, InterruptedException;

  @Override
  void close();
}
