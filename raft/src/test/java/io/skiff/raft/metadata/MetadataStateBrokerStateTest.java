package io.skiff.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.MetadataException.Error;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Broker membership states in the metadata: transitions, capacity refusals, drains, snapshots. */
class MetadataStateBrokerStateTest extends MetadataStateCommandTest {

  @BeforeEach
  void threeBrokersAndATopic() throws IOException {
    ok(MetadataCommand.registerBroker(new BrokerInfo(1, "h", 9092, 9093, "a", true)));
    ok(MetadataCommand.registerBroker(new BrokerInfo(2, "h", 9092, 9093, "b", true)));
    ok(MetadataCommand.registerBroker(new BrokerInfo(3, "h", 9092, 9093, "a", true)));
    ok(
        MetadataCommand.createTopic(
            "t", UUID.randomUUID(), List.of(List.of(3, 1), List.of(1, 2)), Map.of()));
  }

  @Test
  void maintenanceGoesOnAndOffAndSurvivesReRegistration() throws IOException {
    ok(MetadataCommand.setBrokerState(2, BrokerState.MAINTENANCE));
    ok(MetadataCommand.registerBroker(new BrokerInfo(2, "h2", 1, 2, "b", true)));
    assertThat(stateOf(2)).isEqualTo(BrokerState.MAINTENANCE);
    assertThat(state.image(0).broker(2).orElseThrow().host()).isEqualTo("h2");

    ok(MetadataCommand.setBrokerState(2, BrokerState.ACTIVE));
    assertThat(stateOf(2)).isEqualTo(BrokerState.ACTIVE);
  }

  @Test
  void decommissionDrainsThenSettlesOnceNothingNamesTheBroker() throws IOException {
    ok(MetadataCommand.setBrokerState(3, BrokerState.DRAINING));
    assertThat(stateOf(3)).isEqualTo(BrokerState.DRAINING);
    refused(
        MetadataCommand.alterReassignment("t", 1, List.of(1, 3)), Error.INVALID_REPLICA_ASSIGNMENT);

    ok(MetadataCommand.alterReassignment("t", 0, List.of(2, 1)));
    assertThat(stateOf(3)).isEqualTo(BrokerState.DRAINING); // still the removing replica
    ok(MetadataCommand.completeReassignment("t", 0, List.of(2, 1)));

    assertThat(stateOf(3)).isEqualTo(BrokerState.DECOMMISSIONED);
    assertThat(state.image(0).broker(3).orElseThrow().active()).isFalse();
  }

  @Test
  void aBrokerWithoutReplicasIsDecommissionedAtOnce() throws IOException {
    ok(MetadataCommand.registerBroker(new BrokerInfo(4, "h", 9092, 9093, "", true)));
    ok(MetadataCommand.setBrokerState(4, BrokerState.DRAINING));

    assertThat(stateOf(4)).isEqualTo(BrokerState.DECOMMISSIONED);
  }

  @Test
  void refusesADecommissionTheOtherBrokersCannotHold() throws IOException {
    ok(MetadataCommand.setBrokerState(1, BrokerState.DRAINING));
    final MetadataState.Result result =
        apply(MetadataCommand.setBrokerState(2, BrokerState.DRAINING));

    assertThat(result.error()).isEqualTo(Error.INVALID_REPLICATION_FACTOR);
    assertThat(result.message())
        .contains("cannot decommission broker 2", "replication factor 2", "only 1 other");
    assertThat(stateOf(2)).isEqualTo(BrokerState.ACTIVE);
  }

  @Test
  void recommissionCancelsTheDrainAndRefusesOddTransitions() throws IOException {
    ok(MetadataCommand.setBrokerState(3, BrokerState.DRAINING));
    refused(MetadataCommand.setBrokerState(3, BrokerState.MAINTENANCE), Error.INVALID_REQUEST);
    refused(MetadataCommand.setBrokerState(3, BrokerState.DECOMMISSIONED), Error.INVALID_REQUEST);
    refused(MetadataCommand.setBrokerState(9, BrokerState.MAINTENANCE), Error.UNKNOWN_BROKER);

    ok(MetadataCommand.setBrokerState(3, BrokerState.ACTIVE));
    assertThat(stateOf(3)).isEqualTo(BrokerState.ACTIVE);
  }

  @Test
  void newTopicsAvoidDrainingBrokers() throws IOException {
    ok(MetadataCommand.setBrokerState(3, BrokerState.DRAINING));

    final List<List<Integer>> placed =
        ReplicaPlacement.assign("u", state.image(0).brokers().values(), 0, 6, 2);
    assertThat(placed).allSatisfy(replicas -> assertThat(replicas).containsOnly(1, 2));
  }

  @Test
  void drainTargetsPreferAnotherRackThenTheLeastLoadedBroker() throws IOException {
    ok(MetadataCommand.registerBroker(new BrokerInfo(4, "h", 9092, 9093, "b", true)));
    ok(MetadataCommand.setBrokerState(3, BrokerState.DRAINING));

    // partition 0 is [3, 1]; 1 is in rack a, so a broker of rack b replaces 3: 4 holds less than 2
    assertThat(DrainPlanner.target(state.image(0), List.of(3, 1))).contains(List.of(4, 1));
    assertThat(DrainPlanner.target(state.image(0), List.of(1, 2))).isEmpty();
  }

  @Test
  void snapshotsCarryBrokerStates() throws IOException {
    ok(MetadataCommand.setBrokerState(2, BrokerState.MAINTENANCE));
    ok(MetadataCommand.setBrokerState(3, BrokerState.DRAINING));
    final MetadataState restored = restored(snapshot());

    assertThat(restored.image(0).brokers()).isEqualTo(state.image(0).brokers());
    assertThat(restored.image(0).broker(2).orElseThrow().state())
        .isEqualTo(BrokerState.MAINTENANCE);
    assertThat(restored.image(0).broker(3).orElseThrow().state()).isEqualTo(BrokerState.DRAINING);
  }

  private BrokerState stateOf(int nodeId) {
    return state.image(0).broker(nodeId).orElseThrow().state();
  }
}
