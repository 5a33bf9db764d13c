package io.skiff.bench.sbs;

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

  @Override
  void close();
}
