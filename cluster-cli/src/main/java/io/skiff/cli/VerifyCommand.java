package io.skiff.cli;

import io.skiff.cli.verify.History;
import io.skiff.cli.verify.QueueChecker;
import io.skiff.cli.verify.QueueWorkload;
import io.skiff.cli.verify.Verdict;
import io.skiff.cli.verify.VerifyReport;
import io.skiff.cli.verify.WorkloadConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code skiff verify}: runs the Jepsen-style queue workload against a live cluster for a while
 * (the operator brings the faults: kill brokers, cut networks), drains every partition, checks the
 * history for lost, duplicated or reordered data, prints the verdict and writes the report. Exit
 * code 0 when the history is valid, 1 when it is not or the run could not complete.
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = "Check that acknowledged writes survive: workload, checker and report.",
    footer = {
      "",
      "Idempotent acks=all producers send unique values; a consumer group (subscribe, commit,",
      "rebalance) and manually assigned consumers read them. After --duration every partition is",
      "read to its end and the history is checked for lost writes, duplicates, inconsistent",
      "offsets, nonmonotonic sends and polls, poll skips, unexpected values and commit regressions.",
      "The report (history.jsonl, verdict.json, index.html with plots) goes to --report.",
      "",
      "Examples:",
      "  skiff verify --duration 60s",
      "  skiff --bootstrap 10.0.0.1:9092 verify --duration 5m --partitions 8 --report /tmp/run1"
    })
public final class VerifyCommand implements Callable<Integer> {
  @Option(
      names = "--duration",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description = "How long the workload runs, e.g. 60s, 5m (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--topic",
      description = "Topic to write (created if missing; default: a new skiff-verify-<time>).")
  String topic;

  @Option(
      names = "--partitions",
      defaultValue = "4",
      description = "Partitions of a topic created. Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(
      names = "--replication-factor",
      defaultValue = "3",
      description = "Replicas of a topic created. Default: ${DEFAULT-VALUE}.")
  int replicationFactor;

  @Option(
      names = "--producers",
      defaultValue = "3",
      description = "Producers, one send at a time each. Default: ${DEFAULT-VALUE}.")
  int producers;

  @Option(
      names = "--group-consumers",
      defaultValue = "2",
      description = "Consumers in one group. Default: ${DEFAULT-VALUE}.")
  int groupConsumers;

  @Option(
      names = "--assigned-consumers",
      defaultValue = "1",
      description = "Consumers with manual assignment. Default: ${DEFAULT-VALUE}.")
  int assignedConsumers;

  @Option(
      names = "--acks",
      defaultValue = "all",
      description = "Producer acks; only 'all' promises durability. Default: ${DEFAULT-VALUE}.")
  String acks;

  @Option(
      names = "--rate",
      defaultValue = "100",
      description = "Most sends per second per producer. Default: ${DEFAULT-VALUE}.")
  int rate;

  @Option(
      names = "--drain-timeout",
      defaultValue = "120s",
      converter = DurationConverter.class,
      description = "How long the final read may take. Default: ${DEFAULT-VALUE}.")
  Duration drainTimeout;

  @Option(
      names = "--report",
      paramLabel = "DIR",
      description = "Report directory (default: ./skiff-verify/<topic>).")
  Path report;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    final PrintWriter out = spec.commandLine().getOut();
    final PrintWriter err = spec.commandLine().getErr();
    final String name = topic != null ? topic : "skiff-verify-" + System.currentTimeMillis();
    final WorkloadConfig config;
    try {
      config =
          new WorkloadConfig(
              SkiffCli.invocation(spec).bootstrap(),
              name,
              partitions,
              replicationFactor,
              producers,
              groupConsumers,
              assignedConsumers,
              acks,
              acks.equals("all") || acks.equals("-1"),
              rate,
              Duration.ofSeconds(5));
    } catch (IllegalArgumentException e) {
      err.println("skiff verify: " + e.getMessage());
      return 2;
    }
    final History history = new History();
    final boolean drained;
    try {
      drained = run(config, history, out);
    } catch (IllegalStateException e) {
      err.println("skiff verify: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    final Verdict verdict = QueueChecker.check(history.ops());
    final Path dir = report != null ? report : Path.of("skiff-verify", name);
    VerifyReport.write(dir, "skiff verify " + name, history, verdict);
    out.print(verdict.summary());
    if (!drained) {
      out.println("the final read did not reach every partition's end: unseen values not proven");
    }
    out.println("report: " + dir.toAbsolutePath().resolve("index.html"));
    out.flush();
    return verdict.valid() ? 0 : 1;
  }

  private boolean run(WorkloadConfig config, History history, PrintWriter out)
      throws InterruptedException {
    final QueueWorkload workload = new QueueWorkload(config, history);
    workload.createTopic(Duration.ofSeconds(60));
    out.printf(
        "skiff verify: topic %s, running %s; bring your faults now%n", config.topic(), duration);
    out.flush();
    workload.start();
    Thread.sleep(duration.toMillis());
    workload.stop();
    out.println("skiff verify: workload stopped; reading every partition to its end");
    out.flush();
    return workload.drain(drainTimeout);
  }
}
