package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.cli.verify.History;
import io.skiff.cli.verify.Op;
import io.skiff.cli.verify.QueueChecker;
import io.skiff.cli.verify.QueueWorkload;
import io.skiff.cli.verify.Verdict;
import io.skiff.cli.verify.VerifyReport;
import io.skiff.cli.verify.WorkloadConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * One chaos run for a test: the queue workload under a nemesis schedule for a while, heal, drain,
 * check, and the report under {@code target/chaos/<name>/}.
 *
 * @param verdict the checker's verdict
 * @param faults faults the schedule injected
 * @param drained whether the final read reached every partition's end
 */
record ChaosRun(Verdict verdict, int faults, boolean drained) {

  /**
   * How long a run lasts: {@code shortRun} in {@code ./mvnw verify}, the minutes of system property
   * {@code skiff.chaos.soak.minutes} under the {@code chaos-soak} profile.
   */
  static Duration length(Duration shortRun) {
    final Integer soakMinutes = Integer.getInteger("skiff.chaos.soak.minutes");
    return soakMinutes == null ? shortRun : Duration.ofMinutes(soakMinutes);
  }

  /** How much longer than asked a run may go on to see its {@code minFaults}. */
  private static final Duration OVERTIME = Duration.ofMinutes(3);

  /**
   * Runs for {@code duration}, and on until the schedule has injected {@code minFaults} (a slow
   * machine restarts brokers slowly), at most {@link #OVERTIME} longer.
   */
  static ChaosRun run(
      String name,
      WorkloadConfig config,
      Duration duration,
      int minFaults,
      Duration quiet,
      Duration fault,
      Function<LeaderLocator, List<Nemesis>> nemeses,
      List<Integer> brokers)
      throws Exception {
    final History history = new History();
    final QueueWorkload workload = new QueueWorkload(config, history);
    workload.createTopic(Duration.ofSeconds(90));
    final int faults;
    try (LeaderLocator locator =
        new LeaderLocator(config.bootstrap(), config.topic(), 0, brokers, name.hashCode())) {
      workload.start();
      final NemesisSchedule schedule =
          new NemesisSchedule(history, nemeses.apply(locator), quiet, fault);
      schedule.start();
      try {
        Thread.sleep(duration.toMillis());
        final long overtime = System.nanoTime() + OVERTIME.toNanos();
        while (schedule.faults() < minFaults && System.nanoTime() < overtime) {
          Thread.sleep(500);
        }
      } finally {
        faults = schedule.stop();
        workload.stop();
      }
    }
    final boolean drained = workload.drain(Duration.ofSeconds(120));
    final Verdict verdict = QueueChecker.check(history.ops());
    VerifyReport.write(Path.of("target", "chaos", name), name, history, verdict);
    return new ChaosRun(verdict, faults, drained);
  }

  /**
   * The durability claim every run checks: the final read reached every partition's end, the
   * checker judged the history valid with no anomaly of any kind, and more than {@code
   * moreSendsThan} sends were acknowledged (progress, not throughput).
   */
  void assertAcknowledgedWritesSurvived(int moreSendsThan) {
    assertThat(drained).as("the final read reached every partition's end").isTrue();
    assertThat(verdict.valid()).as(verdict.summary()).isTrue();
    assertThat(verdict.anomalies().values()).allMatch(n -> n == 0);
    assertThat(verdict.sends().get(Op.Type.OK)).isGreaterThan(moreSendsThan);
  }
}
