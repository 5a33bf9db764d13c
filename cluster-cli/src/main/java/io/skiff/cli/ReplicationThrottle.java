package io.skiff.cli;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The cluster's replication throttle, {@value #KEY} on the default broker resource (Kafka's {@code
 * kafka-configs --entity-type brokers --entity-default}), through IncrementalAlterConfigs and
 * DescribeConfigs. Every broker applies it to its new replicas' catch-up, so it bounds the bytes
 * per second each broker receiving moved replicas takes in; it lives in the cluster metadata and
 * outlasts broker restarts until it is lifted. Stateless.
 */
final class ReplicationThrottle {
  static final String KEY = "follower.replication.throttled.rate";

  private static final ConfigResource CLUSTER_DEFAULT =
      new ConfigResource(ConfigResource.Type.BROKER, "");

  private ReplicationThrottle() {}

  /** Sets the throttle to {@code bytesPerSecond} and says so on stderr. */
  static void set(Invocation run, Admin admin, long bytesPerSecond) throws Exception {
    alter(run, admin, AlterConfigOp.OpType.SET, Long.toString(bytesPerSecond));
    run.err()
        .printf(
            "replication throttle: new replicas catch up at most %s (%s)%n",
            rate(bytesPerSecond), KEY);
    run.err().flush();
  }

  /** Lifts the throttle; true if one was set. */
  static boolean clear(Invocation run, Admin admin) throws Exception {
    if (read(run, admin).isEmpty()) {
      return false;
    }
    alter(run, admin, AlterConfigOp.OpType.DELETE, null);
    run.err().println("replication throttle lifted");
    run.err().flush();
    return true;
  }

  /** The throttle in bytes per second, empty when there is none. */
  static OptionalLong read(Invocation run, Admin admin) throws Exception {
    final Map<ConfigResource, Config> configs =
        run.await(admin.describeConfigs(List.of(CLUSTER_DEFAULT)).all());
    final ConfigEntry entry = configs.get(CLUSTER_DEFAULT).get(KEY);
    if (entry == null || entry.value() == null) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(Long.parseLong(entry.value()));
  }

  /** {@code 2097152} as "2.0 MiB/s", smaller rates in KiB/s. */
  static String rate(double bytesPerSecond) {
    return bytesPerSecond >= 1 << 20
        ? String.format(Locale.ROOT, "%.1f MiB/s", bytesPerSecond / (1 << 20))
        : String.format(Locale.ROOT, "%.0f KiB/s", bytesPerSecond / 1024);
  }

  /** Fails with a clear message for a throttle below the brokers' least, 1 KiB/s. */
  static void check(Long bytesPerSecond, picocli.CommandLine commandLine) {
    if (bytesPerSecond != null && bytesPerSecond < 1024) {
      throw new picocli.CommandLine.ParameterException(
          commandLine, "--max-bytes-per-sec must be at least 1024 (bytes per second)");
    }
  }

  private static void alter(Invocation run, Admin admin, AlterConfigOp.OpType op, String value)
      throws Exception {
    final Collection<AlterConfigOp> ops =
        List.of(new AlterConfigOp(new ConfigEntry(KEY, value), op));
    run.await(admin.incrementalAlterConfigs(Map.of(CLUSTER_DEFAULT, ops)).all());
  }
}
