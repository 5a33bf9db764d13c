package io.skiff.cli.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.cli.verify.Op.Fn;
import io.skiff.cli.verify.Op.Read;
import io.skiff.cli.verify.Op.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueueCheckerTest {
  private static final String P0 = "t-0";
  private static final String P1 = "t-1";

  private final History history = new History();

  private void send(int process, String partition, long value, long offset) {
    history.record(Op.send(process, partition, value));
    history.record(Op.sent(process, partition, value, offset));
  }

  private void poll(int process, Read... reads) {
    history.record(Op.poll(process));
    history.record(Op.polled(process, List.of(reads)));
  }

  private void assign(int process, String... partitions) {
    history.record(Op.assign(process));
    history.record(Op.assigned(process, List.of(partitions)));
  }

  private void commit(int process, Map<String, Long> offsets) {
    history.record(Op.commit(process, offsets));
    history.record(Op.committed(process, Type.OK, offsets, null));
  }

  private static Read read(String partition, long offset, long value) {
    return new Read(partition, offset, value);
  }

  private Verdict verdict() {
    return QueueChecker.check(history.ops());
  }

  private static void assertOnly(Verdict verdict, Anomaly anomaly) {
    assertThat(verdict.valid()).isFalse();
    assertThat(verdict.anomalies().get(anomaly)).as(anomaly.toString()).isPositive();
    verdict
        .anomalies()
        .forEach((a, n) -> assertThat(n).as(a.toString()).isEqualTo(a == anomaly ? n : 0));
    assertThat(verdict.examples().get(anomaly)).isNotEmpty();
  }

  @Test
  void acceptsAHistoryWhereEveryAcknowledgedValueIsReadInOrder() {
    send(1, P0, 10, 0);
    send(1, P0, 11, 1);
    send(2, P1, 20, 0);
    assign(3, P0, P1);
    poll(3, read(P0, 0, 10), read(P1, 0, 20));
    poll(3, read(P0, 1, 11));
    commit(3, Map.of(P0, 2L, P1, 1L));

    final Verdict verdict = verdict();

    assertThat(verdict.valid()).as(verdict.summary()).isTrue();
    assertThat(verdict.reads()).isEqualTo(3);
    assertThat(verdict.sends()).containsEntry(Type.OK, 3);
  }

  @Test
  void findsALostWriteWhenReadsPassItsOffset() {
    send(1, P0, 10, 0);
    send(1, P0, 11, 1);
    send(1, P0, 12, 2);
    assign(3, P0);
    poll(3, read(P0, 0, 10), read(P0, 2, 12)); // 11 gone, offset 1 never returned

    final Verdict verdict = verdict();

    assertThat(verdict.anomalies().get(Anomaly.LOST_WRITE)).isEqualTo(1);
    assertThat(verdict.examples().get(Anomaly.LOST_WRITE).get(0)).contains("11");
    assertThat(verdict.valid()).isFalse();
  }

  @Test
  void countsAnAcknowledgedValueNoReadReachedAsUnseenNotLost() {
    send(1, P0, 10, 0);
    send(1, P0, 11, 1);
    assign(3, P0);
    poll(3, read(P0, 0, 10));

    final Verdict verdict = verdict();

    assertThat(verdict.valid()).as(verdict.summary()).isTrue();
    assertThat(verdict.unseen()).isEqualTo(1);
  }

  @Test
  void letsAnIndeterminateSendAppearOrNot() {
    history.record(Op.send(1, P0, 10));
    history.record(Op.sendEnded(1, Type.INFO, P0, 10, "timed out"));
    history.record(Op.send(1, P0, 11));
    history.record(Op.sendEnded(1, Type.INFO, P0, 11, "timed out"));
    send(1, P0, 12, 1);
    assign(3, P0);
    poll(3, read(P0, 0, 10), read(P0, 1, 12)); // 10 happened, 11 did not

    final Verdict verdict = verdict();

    assertThat(verdict.valid()).as(verdict.summary()).isTrue();
    assertThat(verdict.indeterminateRead()).isEqualTo(1);
    assertThat(verdict.sends()).containsEntry(Type.INFO, 2);
  }

  @Test
  void findsADuplicateValueAtTwoOffsets() {
    send(1, P0, 10, 0);
    assign(3, P0);
    poll(3, read(P0, 0, 10), read(P0, 1, 10));

    assertOnly(verdict(), Anomaly.DUPLICATE);
  }

  @Test
  void findsTwoValuesAtOneOffset() {
    send(1, P0, 10, 0);
    send(2, P0, 20, 1);
    assign(3, P0);
    poll(3, read(P0, 0, 10), read(P0, 1, 21));
    history.record(Op.send(2, P0, 21)); // 21 was sent, just never acknowledged
    history.record(Op.sendEnded(2, Type.INFO, P0, 21, "timed out"));

    final Verdict verdict = verdict();

    assertThat(verdict.anomalies().get(Anomaly.INCONSISTENT_OFFSET)).isEqualTo(1);
    assertThat(verdict.examples().get(Anomaly.INCONSISTENT_OFFSET).get(0)).contains("t-0@1");
    assertThat(verdict.valid()).isFalse();
  }

  @Test
  void findsASendAcknowledgedBelowTheSameProducersEarlierSend() {
    send(1, P0, 10, 5);
    send(1, P0, 11, 4);
    send(1, P1, 12, 0); // another partition has its own order
    assign(3, P0, P1);
    poll(3, read(P0, 4, 11), read(P0, 5, 10), read(P1, 0, 12));

    assertOnly(verdict(), Anomaly.NONMONOTONIC_SEND);
  }

  @Test
  void findsAConsumerGoingBackWithoutReassignment() {
    send(1, P0, 10, 0);
    send(1, P0, 11, 1);
    assign(3, P0);
    poll(3, read(P0, 0, 10), read(P0, 1, 11));
    poll(3, read(P0, 1, 11));

    final Verdict verdict = verdict();

    assertThat(verdict.anomalies().get(Anomaly.NONMONOTONIC_POLL)).isEqualTo(1);
    assertThat(verdict.valid()).isFalse();
  }

  @Test
  void allowsAConsumerToReadAgainAfterARebalance() {
    send(1, P0, 10, 0);
    send(1, P0, 11, 1);
    assign(3, P0);
    poll(3, read(P0, 0, 10), read(P0, 1, 11));
    assign(3, P0);
    poll(3, read(P0, 1, 11));

    assertThat(verdict().valid()).isTrue();
  }

  @Test
  void findsAPollThatSkipsAnOffsetHoldingAValue() {
    send(1, P0, 10, 0);
    send(1, P0, 11, 1);
    send(1, P0, 12, 2);
    assign(3, P0);
    assign(4, P0);
    poll(4, read(P0, 1, 11)); // another consumer shows offset 1 holds 11
    poll(3, read(P0, 0, 10));
    poll(3, read(P0, 2, 12));

    assertOnly(verdict(), Anomaly.POLL_SKIP);
  }

  @Test
  void findsAValueNoOneSent() {
    send(1, P0, 10, 0);
    assign(3, P0);
    poll(3, read(P0, 0, 10), read(P0, 1, 99));

    assertOnly(verdict(), Anomaly.UNEXPECTED_VALUE);
  }

  @Test
  void findsACommitBelowOneThatCompletedBeforeItBegan() {
    send(1, P0, 10, 0);
    assign(3, P0);
    poll(3, read(P0, 0, 10));
    commit(3, Map.of(P0, 1L));
    commit(4, Map.of(P0, 0L));

    assertOnly(verdict(), Anomaly.COMMIT_REGRESSION);
  }

  @Test
  void allowsConcurrentCommitsToCompleteInEitherOrder() {
    send(1, P0, 10, 0);
    assign(3, P0);
    poll(3, read(P0, 0, 10));
    history.record(Op.commit(4, Map.of(P0, 0L)));
    commit(3, Map.of(P0, 1L));
    history.record(Op.committed(4, Type.OK, Map.of(P0, 0L), null));

    assertThat(verdict().valid()).isTrue();
  }

  @Test
  void measuresAvailabilityAndWriteOutagePerFaultWindow() {
    send(1, P0, 10, 0);
    history.record(Op.faultStarts("kill -9 broker 2"));
    history.record(Op.send(1, P0, 11));
    history.record(Op.sendEnded(1, Type.INFO, P0, 11, "timed out"));
    send(1, P0, 12, 1);
    history.record(Op.faultHealed("restarted broker 2"));
    send(1, P0, 13, 2);
    assign(3, P0);
    poll(3, read(P0, 0, 10), read(P0, 1, 12), read(P0, 2, 13));

    final Verdict verdict = verdict();

    assertThat(verdict.valid()).isTrue();
    assertThat(verdict.availability()).hasSize(1);
    final Verdict.FaultWindow window = verdict.availability().get(0);
    assertThat(window.fault()).isEqualTo("kill -9 broker 2");
    assertThat(window.operations()).isEqualTo(2);
    assertThat(window.succeeded()).isEqualTo(1);
    assertThat(window.availability()).isEqualTo(0.5);
    assertThat(window.longestWriteOutageMs())
        .isPositive()
        .isLessThanOrEqualTo(window.endMs() - window.startMs());
    assertThat(verdict.longestWriteOutageMs())
        .isGreaterThanOrEqualTo(window.longestWriteOutageMs());
  }

  @Test
  void invalidWithoutAnyAcknowledgedSend() {
    history.record(Op.send(1, P0, 10));
    history.record(Op.ended(1, Type.FAIL, Fn.SEND, "no leader"));

    assertThat(verdict().valid()).isFalse();
  }

  @Test
  void historyRoundTripsThroughJsonLines(@TempDir Path dir) throws Exception {
    send(1, P0, 10, 0);
    history.record(Op.faultStarts("SIGSTOP broker 1"));
    assign(3, P0);
    poll(3, read(P0, 0, 10));
    commit(3, Map.of(P0, 1L));
    final Path file = dir.resolve("history.jsonl");

    history.write(file);

    assertThat(History.read(file)).isEqualTo(history.ops());
    final List<String> lines = new ArrayList<>(Files.readAllLines(file));
    assertThat(lines).hasSize(history.ops().size());
    assertThat(lines.get(0)).contains("\"f\":\"SEND\"").doesNotContain("reads");
  }
}
