package io.skiff.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.MetadataException.Error;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The metadata rules of partition reassignments, applied to the state directly. */
class MetadataStateReassignmentTest extends MetadataStateCommandTest {

  @BeforeEach
  void brokersAndATopic() throws IOException {
    for (int id = 1; id <= 4; id++) {
      ok(MetadataCommand.registerBroker(new BrokerInfo(id, "h", 9092, 9093, "", true)));
    }
    ok(MetadataCommand.decommissionBroker(4));
    ok(
        MetadataCommand.createTopic(
            "t", UUID.randomUUID(), List.of(List.of(1, 2), List.of(2, 3)), Map.of()));
  }

  @Test
  void startingRecordsTheTargetAndDerivesAddingAndRemoving() throws IOException {
    ok(MetadataCommand.alterReassignment("t", 0, List.of(3, 2)));

    final TopicInfo t = topic();
    assertThat(t.replicasOf(0)).containsExactly(1, 2);
    assertThat(t.reassignmentOf(0)).contains(List.of(3, 2));
    assertThat(t.addingOf(0)).containsExactly(3);
    assertThat(t.removingOf(0)).containsExactly(1);
    assertThat(t.allReplicasOf(0)).containsExactly(3, 2, 1);
    assertThat(t.reassignmentOf(1)).isEmpty();
    assertThat(t.allReplicasOf(1)).containsExactly(2, 3);
  }

  @Test
  void completingMakesTheTargetTheReplicasAndEndsTheReassignment() throws IOException {
    ok(MetadataCommand.alterReassignment("t", 0, List.of(3, 2)));
    ok(MetadataCommand.completeReassignment("t", 0, List.of(3, 2)));

    assertThat(topic().replicasOf(0)).containsExactly(3, 2);
    assertThat(topic().reassignments()).isEmpty();
  }

  @Test
  void completingAnOlderTargetKeepsTheNewerOne() throws IOException {
    ok(MetadataCommand.alterReassignment("t", 0, List.of(3, 2)));
    ok(MetadataCommand.alterReassignment("t", 0, List.of(3)));
    ok(MetadataCommand.completeReassignment("t", 0, List.of(3, 2)));

    assertThat(topic().replicasOf(0)).containsExactly(3, 2);
    assertThat(topic().reassignmentOf(0)).contains(List.of(3));
    assertThat(topic().removingOf(0)).containsExactly(2);
  }

  @Test
  void cancellingEndsTheReassignmentAndKeepsTheReplicas() throws IOException {
    ok(MetadataCommand.alterReassignment("t", 1, List.of(1)));
    ok(MetadataCommand.alterReassignment("t", 1, null));

    assertThat(topic().replicasOf(1)).containsExactly(2, 3);
    assertThat(topic().reassignments()).isEmpty();
  }

  @Test
  void aTargetOfTheSameBrokersOnlyReordersTheReplicas() throws IOException {
    ok(MetadataCommand.alterReassignment("t", 0, List.of(2, 1)));

    assertThat(topic().replicasOf(0)).containsExactly(2, 1);
    assertThat(topic().reassignments()).isEmpty();
  }

  @Test
  void refusesBadTargetsWithKafkasReasons() throws IOException {
    refused(MetadataCommand.alterReassignment("nope", 0, List.of(1)), Error.UNKNOWN_TOPIC);
    refused(MetadataCommand.alterReassignment("t", 2, List.of(1)), Error.UNKNOWN_TOPIC);
    refused(MetadataCommand.alterReassignment("t", -1, List.of(1)), Error.UNKNOWN_TOPIC);
    refused(MetadataCommand.alterReassignment("t", 0, List.of()), Error.INVALID_REPLICA_ASSIGNMENT);
    refused(
        MetadataCommand.alterReassignment("t", 0, List.of(3, 3)), Error.INVALID_REPLICA_ASSIGNMENT);
    refused(
        MetadataCommand.alterReassignment("t", 0, List.of(9)), Error.INVALID_REPLICA_ASSIGNMENT);
    refused(
        MetadataCommand.alterReassignment("t", 0, List.of(4)), Error.INVALID_REPLICA_ASSIGNMENT);
    refused(MetadataCommand.alterReassignment("t", 0, null), Error.NO_REASSIGNMENT_IN_PROGRESS);
    refused(MetadataCommand.completeReassignment("nope", 0, List.of(1)), Error.UNKNOWN_TOPIC);
    assertThat(topic().reassignments()).isEmpty();
    assertThat(topic().replicasOf(0)).containsExactly(1, 2);
  }

  @Test
  void otherTopicChangesKeepTheReassignment() throws IOException {
    ok(MetadataCommand.alterReassignment("t", 1, List.of(1, 3)));
    ok(MetadataCommand.setConfigs(MetadataCommand.SCOPE_TOPIC, "t", Map.of("retention.ms", "5")));
    ok(MetadataCommand.createPartitions("t", List.of(List.of(1))));

    assertThat(topic().reassignmentOf(1)).contains(List.of(1, 3));
    assertThat(topic().partitionCount()).isEqualTo(3);
  }

  @Test
  void snapshotsCarryReassignments() throws IOException {
    ok(MetadataCommand.alterReassignment("t", 1, List.of(1, 3)));
    final MetadataState restored = restored(snapshot());

    assertThat(restored.image(7).topic("t").orElseThrow()).isEqualTo(topic());
  }

  @Test
  void snapshotsFromBeforeReassignmentsStillRead() throws IOException {
    final byte[] withTrailer = snapshot();
    final byte[] old = java.util.Arrays.copyOf(withTrailer, withTrailer.length - Integer.BYTES);
    final MetadataState restored = restored(old);

    assertThat(restored.image(7).topic("t").orElseThrow()).isEqualTo(topic());
  }

  private TopicInfo topic() {
    return state.image(0).topic("t").orElseThrow();
  }
}
