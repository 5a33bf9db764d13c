package io.skiff.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ElectionNotNeededException;

/**
 * Preferred leader election for every partition (Kafka's ElectLeaders, PREFERRED): each partition
 * whose leader is not its first replica hands leadership to it. A hand-over can fail when an
 * election or a membership change gets there first (right after a reassignment, say), so failed
 * partitions are asked again, up to five rounds a second apart. Stateless; one use per run.
 */
final class PreferredLeaders {
  /** Partitions whose leadership moved, and those that could not move, each with the reason. */
  record Outcome(List<TopicPartition> elected, List<String> failed) {}

  private PreferredLeaders() {}

  static Outcome elect(Invocation run, Admin admin) throws Exception {
    final List<TopicPartition> elected = new ArrayList<>();
    Outcome round = electOnce(run, admin);
    for (int attempt = 1; ; attempt++) {
      elected.addAll(round.elected());
      if (round.failed().isEmpty() || attempt == 5) {
        break;
      }
      Thread.sleep(1000);
      round = electOnce(run, admin);
    }
    elected.sort(java.util.Comparator.comparing(ReassignmentPlan::name));
    return new Outcome(elected, round.failed());
  }

  private static Outcome electOnce(Invocation run, Admin admin) throws Exception {
    final Map<TopicPartition, Optional<Throwable>> results =
        run.await(admin.electLeaders(ElectionType.PREFERRED, null).partitions());
    final List<TopicPartition> elected = new ArrayList<>();
    final List<String> failed = new ArrayList<>();
    results.forEach(
        (tp, error) -> {
          if (error.isEmpty()) {
            elected.add(tp);
          } else if (!(error.get() instanceof ElectionNotNeededException)) {
            failed.add(ReassignmentPlan.name(tp) + ": " + ErrorReport.describe(error.get()));
          }
        });
    failed.sort(null);
    return new Outcome(elected, failed);
  }
}
