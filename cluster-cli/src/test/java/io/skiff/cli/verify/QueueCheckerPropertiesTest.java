package io.skiff.cli.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.cli.verify.Op.Read;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class QueueCheckerPropertiesTest {

  /**
   * Sends {@code targets.size()} values, the i-th to partition {@code targets[i]} by producer
   * {@code i % 3}, each acknowledged at its partition's next offset; returns the log per partition.
   */
  private static Map<String, List<Read>> sendAll(History history, List<Integer> targets) {
    final Map<String, List<Read>> logs = new HashMap<>();
    for (int i = 0; i < targets.size(); i++) {
      final String partition = "t-" + targets.get(i);
      final List<Read> log = logs.computeIfAbsent(partition, p -> new ArrayList<>());
      final long value = 1000L + i;
      history.record(Op.send(i % 3, partition, value));
      history.record(Op.sent(i % 3, partition, value, log.size()));
      log.add(new Read(partition, log.size(), value));
    }
    return logs;
  }

  /** One consumer (process 9) reads every log in polls of {@code chunk} records. */
  private static void readAll(History history, Map<String, List<Read>> logs, int chunk) {
    history.record(Op.assign(9));
    history.record(Op.assigned(9, List.copyOf(logs.keySet())));
    final List<Read> all = logs.values().stream().flatMap(List::stream).toList();
    for (int from = 0; from < all.size(); from += chunk) {
      history.record(Op.poll(9));
      history.record(Op.polled(9, all.subList(from, Math.min(all.size(), from + chunk))));
    }
  }

  @Property(tries = 200)
  void aCorrectQueueHistoryIsValid(
      @ForAll @Size(min = 1, max = 60) List<@IntRange(min = 0, max = 3) Integer> targets,
      @ForAll @IntRange(min = 1, max = 7) int chunk) {
    final History history = new History();
    readAll(history, sendAll(history, targets), chunk);

    final Verdict verdict = QueueChecker.check(history.ops());

    assertThat(verdict.valid()).as(verdict.summary()).isTrue();
    assertThat(verdict.reads()).isEqualTo(targets.size());
    assertThat(verdict.unseen()).isZero();
  }

  @Property(tries = 200)
  void anAcknowledgedRecordMissingFromEveryReadIsALostWrite(
      @ForAll @Size(min = 2, max = 60) List<@IntRange(min = 0, max = 3) Integer> targets,
      @ForAll @IntRange(min = 1, max = 7) int chunk,
      @ForAll @IntRange(min = 0, max = 59) int victim) {
    final History history = new History();
    final Map<String, List<Read>> logs = sendAll(history, targets);
    final Read lost = logs.get("t-" + targets.get(victim % targets.size())).get(0);
    final List<Read> log = logs.get(lost.partition());
    log.remove(lost);
    log.add(new Read(lost.partition(), lost.offset() + log.size() + 1, 1L)); // a read past it

    final Verdict verdict = QueueChecker.check(readAndSendMarker(history, logs, chunk));

    assertThat(verdict.valid()).isFalse();
    assertThat(verdict.anomalies().get(Anomaly.LOST_WRITE)).as(verdict.summary()).isEqualTo(1);
  }

  /** Reads everything; the marker value 1 read past the lost record was sent too. */
  private static List<Op> readAndSendMarker(
      History history, Map<String, List<Read>> logs, int chunk) {
    history.record(Op.send(99, "marker", 1L));
    readAll(history, logs, chunk);
    return history.ops();
  }
}
