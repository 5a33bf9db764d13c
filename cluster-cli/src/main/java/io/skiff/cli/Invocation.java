package io.skiff.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaFuture;
import picocli.CommandLine;

/**
 * What one run of {@code skiff} was given: where the cluster is ({@code --bootstrap}, {@code
 * --admin}), how to print ({@code --output}), how long to wait ({@code --timeout}); and the Kafka
 * clients made from it. Immutable; used by one command on one thread.
 */
record Invocation(
    String bootstrap,
    List<String> admins,
    Printer.Format output,
    Duration timeout,
    CommandLine command) {
  PrintWriter out() {
    return command.getOut();
  }

  PrintWriter err() {
    return command.getErr();
  }

  Printer printer() {
    return new Printer(output, out());
  }

  /** Client settings every Kafka client of this run shares. */
  Properties clientProperties() {
    final Properties p = new Properties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(CommonClientConfigs.CLIENT_ID_CONFIG, "skiff-cli");
    final int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(Math.min(ms, 30_000)));
    p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(ms));
    return p;
  }

  /**
   * Waits for {@code future}, a little longer than {@code --timeout} (the clients' own deadline),
   * and returns its value; its failure is thrown as it is.
   */
  <T> T await(KafkaFuture<T> future) throws Exception {
    try {
      return future.get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** An Admin client for the cluster; the caller closes it. */
  Admin admin() {
    final Properties p = clientProperties();
    p.put(AdminClientConfig.RETRIES_CONFIG, "2147483647");
    return Admin.create(p);
  }
}
