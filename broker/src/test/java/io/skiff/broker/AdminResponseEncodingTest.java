package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.broker.api.ApiRegistry;
import io.skiff.broker.api.RequestContext;
import io.skiff.log.TestBatches;
import io.skiff.raft.metadata.TopicInfo;
import io.skiff.raft.partition.Acks;
import io.skiff.raft.partition.ReplicatedPartition;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignablePartition;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignableTopic;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersRequestData.TopicPartitions;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData.ListPartitionReassignmentsTopics;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin handlers' responses encode at every version they are registered for: each handler
 * answers a request with successes and errors at each version, and the answer is written and read
 * back with Kafka's codec at that version. Setting a field the version lacks would throw here.
 */
class AdminResponseEncodingTest {
  @TempDir static Path dir;

  private static BrokerCluster cluster;
  private static Broker broker;

  @BeforeAll
  static void startBrokerWithATopic() throws Exception {
    cluster =
        new BrokerCluster(
            dir,
            1,
            Map.of("offsets.topic.num.partitions", "2", "group.initial.rebalance.delay.ms", "0"));
    broker = cluster.broker(1);
    final TopicInfo topic =
        broker
            .raft()
            .metadata()
            .createTopic("t", 2, 1, Map.of("retention.ms", "1000"))
            .get(60, TimeUnit.SECONDS);
    for (int p = 0; p < 2; p++) {
      final ReplicatedPartition replica = awaitLeader(topic, p);
      replica.append(TestBatches.batch(0, 10, 10, 0), Acks.ALL).get(60, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void describeClusterEncodesAtEveryVersion() throws Exception {
    forEachVersion(
        ApiKeys.DESCRIBE_CLUSTER,
        DescribeClusterRequestData::new,
        (version, decoded) -> {
          final var r = (DescribeClusterResponseData) decoded;
          assertThat(r.clusterId()).isEqualTo("skiff-cluster");
          assertThat(r.brokers()).hasSize(1);
        });
  }

  @Test
  void createPartitionsEncodesAtEveryVersion() throws Exception {
    forEachVersion(
        ApiKeys.CREATE_PARTITIONS,
        () ->
            new CreatePartitionsRequestData()
                .setValidateOnly(true)
                .setTimeoutMs(30_000)
                .setTopics(
                    new CreatePartitionsRequestData.CreatePartitionsTopicCollection(
                        List.of(
                                new CreatePartitionsTopic().setName("t").setCount(3),
                                new CreatePartitionsTopic().setName("missing").setCount(3))
                            .iterator())),
        (version, decoded) -> {
          final var r = (CreatePartitionsResponseData) decoded;
          assertThat(r.results().get(0).errorCode()).isEqualTo(Errors.NONE.code());
          assertThat(r.results().get(1).errorCode())
              .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
          assertThat(r.results().get(1).errorMessage()).contains("missing");
        });
  }

  @Test
  void describeConfigsEncodesAtEveryVersion() throws Exception {
    forEachVersion(
        ApiKeys.DESCRIBE_CONFIGS,
        () ->
            new DescribeConfigsRequestData()
                .setIncludeSynonyms(true)
                .setResources(
                    List.of(
                        resource(ConfigResource.Type.TOPIC, "t"),
                        resource(ConfigResource.Type.TOPIC, "missing"),
                        resource(ConfigResource.Type.BROKER, "1"),
                        resource(ConfigResource.Type.BROKER_LOGGER, "1"))),
        (version, decoded) -> {
          final var results = ((DescribeConfigsResponseData) decoded).results();
          assertThat(results)
              .extracting(DescribeConfigsResponseData.DescribeConfigsResult::errorCode)
              .containsExactly(
                  Errors.NONE.code(),
                  Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
                  Errors.NONE.code(),
                  Errors.INVALID_REQUEST.code());
          assertThat(results.get(0).configs())
              .anySatisfy(
                  c -> {
                    assertThat(c.name()).isEqualTo("retention.ms");
                    assertThat(c.value()).isEqualTo("1000");
                    assertThat(c.synonyms()).isNotEmpty();
                  });
          assertThat(results.get(2).configs()).anySatisfy(c -> assertThat(c.readOnly()).isTrue());
        });
  }

  @Test
  void incrementalAlterConfigsEncodesAtEveryVersion() throws Exception {
    forEachVersion(
        ApiKeys.INCREMENTAL_ALTER_CONFIGS,
        () -> {
          final var topic =
              new AlterConfigsResource()
                  .setResourceType(ConfigResource.Type.TOPIC.id())
                  .setResourceName("t");
          topic.configs().add(alter("retention.ms", OpType.SET, "2000"));
          final var bad =
              new AlterConfigsResource()
                  .setResourceType(ConfigResource.Type.TOPIC.id())
                  .setResourceName("t2");
          final var brokerResource =
              new AlterConfigsResource()
                  .setResourceType(ConfigResource.Type.BROKER.id())
                  .setResourceName("1");
          brokerResource.configs().add(alter("num.partitions", OpType.SET, "3"));
          final var request = new IncrementalAlterConfigsRequestData().setValidateOnly(true);
          request.resources().add(topic);
          request.resources().add(bad);
          request.resources().add(brokerResource);
          return request;
        },
        (version, decoded) ->
            assertThat(((IncrementalAlterConfigsResponseData) decoded).responses())
                .extracting(r -> Errors.forCode(r.errorCode()))
                .containsExactly(
                    Errors.NONE, Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.INVALID_REQUEST));
  }

  @Test
  void deleteRecordsEncodesAtEveryVersion() throws Exception {
    forEachVersion(
        ApiKeys.DELETE_RECORDS,
        () -> {
          final var topic = new DeleteRecordsTopic().setName("t");
          topic.partitions().add(new DeleteRecordsPartition().setPartitionIndex(0).setOffset(5));
          topic.partitions().add(new DeleteRecordsPartition().setPartitionIndex(1).setOffset(99));
          topic.partitions().add(new DeleteRecordsPartition().setPartitionIndex(7).setOffset(1));
          return new DeleteRecordsRequestData().setTimeoutMs(30_000).setTopics(List.of(topic));
        },
        (version, decoded) -> {
          final var partitions =
              ((DeleteRecordsResponseData) decoded).topics().find("t").partitions();
          assertThat(partitions.find(0).errorCode()).isEqualTo(Errors.NONE.code());
          assertThat(partitions.find(0).lowWatermark()).isEqualTo(5);
          assertThat(partitions.find(1).errorCode()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE.code());
          assertThat(partitions.find(7).errorCode())
              .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        });
  }

  @Test
  void electLeadersEncodesAtEveryVersion() throws Exception {
    forEachVersion(
        ApiKeys.ELECT_LEADERS,
        () -> {
          final var request = new ElectLeadersRequestData().setTimeoutMs(30_000);
          request
              .topicPartitions()
              .add(new TopicPartitions().setTopic("t").setPartitions(List.of(0)));
          request
              .topicPartitions()
              .add(new TopicPartitions().setTopic("missing").setPartitions(List.of(0)));
          return request;
        },
        (version, decoded) -> {
          final var results = ((ElectLeadersResponseData) decoded).replicaElectionResults();
          assertThat(results.get(0).partitionResult().get(0).errorCode())
              .isEqualTo(Errors.ELECTION_NOT_NEEDED.code());
          assertThat(results.get(1).partitionResult().get(0).errorCode())
              .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        });
    final ApiRegistry.Entry entry = broker.apis().get(ApiKeys.ELECT_LEADERS);
    final var unclean =
        new ElectLeadersRequestData()
            .setElectionType(ElectionType.UNCLEAN.value)
            .setTopicPartitions(null);
    final var decoded =
        (ElectLeadersResponseData) roundTrip(ApiKeys.ELECT_LEADERS, entry.maxVersion(), unclean);
    assertThat(decoded.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code());
  }

  @Test
  void initProducerIdEncodesAtEveryVersionAndHandsOutDistinctIds() throws Exception {
    final Set<Long> ids = new HashSet<>();
    forEachVersion(
        ApiKeys.INIT_PRODUCER_ID,
        () -> new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(-1),
        (version, decoded) -> {
          final var r = (InitProducerIdResponseData) decoded;
          assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
          assertThat(r.producerEpoch()).isZero();
          assertThat(ids.add(r.producerId())).as("id %d is new", r.producerId()).isTrue();
        });
    assertThat(ids).allMatch(id -> id >= 0);
    forEachVersion(
        ApiKeys.INIT_PRODUCER_ID,
        () -> new InitProducerIdRequestData().setTransactionalId("payments-tx"),
        (version, decoded) ->
            assertThat(((InitProducerIdResponseData) decoded).errorCode())
                .isEqualTo(Errors.UNSUPPORTED_VERSION.code()));
  }

  @Test
  void alterPartitionReassignmentsEncodesAtEveryVersion() throws Exception {
    forEachVersion(
        ApiKeys.ALTER_PARTITION_REASSIGNMENTS,
        () -> {
          final var t =
              new ReassignableTopic()
                  .setName("t")
                  .setPartitions(
                      List.of(
                          new ReassignablePartition().setPartitionIndex(0).setReplicas(List.of(1)),
                          new ReassignablePartition().setPartitionIndex(1).setReplicas(null),
                          new ReassignablePartition()
                              .setPartitionIndex(1)
                              .setReplicas(List.of(1, 1)),
                          new ReassignablePartition().setPartitionIndex(1).setReplicas(List.of()),
                          new ReassignablePartition()
                              .setPartitionIndex(7)
                              .setReplicas(List.of(1))));
          final var missing =
              new ReassignableTopic()
                  .setName("missing")
                  .setPartitions(
                      List.of(
                          new ReassignablePartition()
                              .setPartitionIndex(0)
                              .setReplicas(List.of(1))));
          return new AlterPartitionReassignmentsRequestData()
              .setTimeoutMs(30_000)
              .setAllowReplicationFactorChange(false)
              .setTopics(List.of(t, missing));
        },
        (version, decoded) -> {
          final var r = (AlterPartitionReassignmentsResponseData) decoded;
          assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
          assertThat(r.responses().get(0).partitions())
              .extracting(p -> Errors.forCode(p.errorCode()))
              .containsExactly(
                  Errors.NONE,
                  Errors.NO_REASSIGNMENT_IN_PROGRESS,
                  version >= 1
                      ? Errors.INVALID_REPLICATION_FACTOR
                      : Errors.INVALID_REPLICA_ASSIGNMENT,
                  version >= 1
                      ? Errors.INVALID_REPLICATION_FACTOR
                      : Errors.INVALID_REPLICA_ASSIGNMENT,
                  Errors.UNKNOWN_TOPIC_OR_PARTITION);
          assertThat(r.responses().get(0).partitions().get(1).errorMessage()).contains("t-1");
          assertThat(r.responses().get(1).partitions().get(0).errorCode())
              .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        });
  }

  @Test
  void listPartitionReassignmentsEncodesAtEveryVersion() throws Exception {
    forEachVersion(
        ApiKeys.LIST_PARTITION_REASSIGNMENTS,
        () -> new ListPartitionReassignmentsRequestData().setTimeoutMs(30_000).setTopics(null),
        (version, decoded) -> {
          final var r = (ListPartitionReassignmentsResponseData) decoded;
          assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
          assertThat(r.topics()).isEmpty();
        });
    forEachVersion(
        ApiKeys.LIST_PARTITION_REASSIGNMENTS,
        () ->
            new ListPartitionReassignmentsRequestData()
                .setTopics(
                    List.of(
                        new ListPartitionReassignmentsTopics()
                            .setName("t")
                            .setPartitionIndexes(List.of(0, 1, 9)),
                        new ListPartitionReassignmentsTopics()
                            .setName("missing")
                            .setPartitionIndexes(List.of(0)))),
        (version, decoded) ->
            assertThat(((ListPartitionReassignmentsResponseData) decoded).topics()).isEmpty());
  }

  /** Checks a decoded response of one version. */
  @FunctionalInterface
  private interface Check {
    void accept(short version, ApiMessage decoded) throws Exception;
  }

  private static void forEachVersion(ApiKeys key, Supplier<ApiMessage> request, Check check)
      throws Exception {
    final ApiRegistry.Entry entry = broker.apis().get(key);
    assertThat(entry).as("%s is registered", key).isNotNull();
    assertThat(entry.minVersion()).isGreaterThanOrEqualTo(key.oldestVersion());
    for (short v = entry.minVersion(); v <= entry.maxVersion(); v++) {
      check.accept(v, roundTrip(key, v, request.get()));
    }
  }

  /** Has the handler answer at {@code version}, encodes the answer, and decodes it again. */
  private static ApiMessage roundTrip(ApiKeys key, short version, ApiMessage request)
      throws Exception {
    final RequestContext context =
        new RequestContext(
            new RequestHeader(key, version, "encoding-test", 1), new InetSocketAddress(0));
    final ApiMessage response =
        broker.apis().get(key).handler().handle(context, request).get(60, TimeUnit.SECONDS);
    final ObjectSerializationCache cache = new ObjectSerializationCache();
    final ByteBuffer buffer = ByteBuffer.allocate(response.size(cache, version));
    response.write(new ByteBufferAccessor(buffer), cache, version);
    assertThat(buffer.remaining()).as("%s v%d fills its size exactly", key, version).isZero();
    buffer.flip();
    final ApiMessage decoded = key.messageType.newResponse();
    decoded.read(new ByteBufferAccessor(buffer), version);
    return decoded;
  }

  private static DescribeConfigsResource resource(ConfigResource.Type type, String name) {
    return new DescribeConfigsResource().setResourceType(type.id()).setResourceName(name);
  }

  private static AlterableConfig alter(String name, OpType op, String value) {
    return new AlterableConfig().setName(name).setConfigOperation(op.id()).setValue(value);
  }

  private static ReplicatedPartition awaitLeader(TopicInfo topic, int partition)
      throws InterruptedException {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      final var replica = broker.raft().partition(topic.partition(partition));
      if (replica.isPresent() && replica.get().isLeaderReady()) {
        return replica.get();
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no leader for " + topic.partition(partition) + " within 60 s");
  }

  // ---- consumer group APIs -------------------------------------------------------------------

  private static final byte[] SUBSCRIPTION = {0, 1, 2};

  private static ApiMessage call(ApiKeys key, short version, ApiMessage request) throws Exception {
    return roundTrip(key, version, request);
  }

  private static ApiRegistry.Entry entry(ApiKeys key) {
    final ApiRegistry.Entry entry = broker.apis().get(key);
    assertThat(entry).as("%s is registered", key).isNotNull();
    return entry;
  }

  /** Waits until this broker coordinates {@code group} with its offsets partition loaded. */
  private static void awaitCoordinator(String group) throws Exception {
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      final var fetched =
          (OffsetFetchResponseData)
              call(
                  ApiKeys.OFFSET_FETCH,
                  (short) 8,
                  new OffsetFetchRequestData()
                      .setGroups(
                          List.of(
                              new OffsetFetchRequestData.OffsetFetchRequestGroup()
                                  .setGroupId(group)
                                  .setTopics(null))));
      if (fetched.groups().get(0).errorCode() == Errors.NONE.code()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("this broker did not coordinate " + group + " within 60 s");
  }

  private static JoinGroupRequestData join(String group, String memberId, int sessionTimeoutMs) {
    final var protocols = new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
    protocols.add(
        new JoinGroupRequestData.JoinGroupRequestProtocol()
            .setName("range")
            .setMetadata(SUBSCRIPTION));
    return new JoinGroupRequestData()
        .setGroupId(group)
        .setMemberId(memberId)
        .setSessionTimeoutMs(sessionTimeoutMs)
        .setRebalanceTimeoutMs(10_000)
        .setProtocolType("consumer")
        .setProtocols(protocols);
  }

  /** Joins a one-member group at {@code version} (twice from v4: MEMBER_ID_REQUIRED first). */
  private static JoinGroupResponseData joinAlone(String group, short version) throws Exception {
    awaitCoordinator(group);
    var joined = (JoinGroupResponseData) call(ApiKeys.JOIN_GROUP, version, join(group, "", 10_000));
    if (version >= 4) {
      assertThat(joined.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
      assertThat(joined.memberId()).isNotEmpty();
      joined =
          (JoinGroupResponseData)
              call(ApiKeys.JOIN_GROUP, version, join(group, joined.memberId(), 10_000));
    }
    assertThat(joined.errorCode()).as("join v%d", version).isEqualTo(Errors.NONE.code());
    return joined;
  }

  private static SyncGroupResponseData sync(
      String group, short version, JoinGroupResponseData joined, int generation) throws Exception {
    final var request =
        new SyncGroupRequestData()
            .setGroupId(group)
            .setMemberId(joined.memberId())
            .setGenerationId(generation);
    request
        .assignments()
        .add(
            new SyncGroupRequestData.SyncGroupRequestAssignment()
                .setMemberId(joined.memberId())
                .setAssignment(new byte[] {7}));
    return (SyncGroupResponseData) call(ApiKeys.SYNC_GROUP, version, request);
  }

  @Test
  void findCoordinatorEncodesAtEveryVersion() throws Exception {
    awaitCoordinator("enc");
    final ApiRegistry.Entry e = entry(ApiKeys.FIND_COORDINATOR);
    for (short v = e.minVersion(); v <= e.maxVersion(); v++) {
      final var request =
          new FindCoordinatorRequestData()
              .setKey("enc")
              .setKeyType(CoordinatorType.GROUP.id())
              .setCoordinatorKeys(List.of("enc", "other"));
      final var r = (FindCoordinatorResponseData) call(ApiKeys.FIND_COORDINATOR, v, request);
      if (v >= 4) {
        assertThat(r.coordinators())
            .hasSize(2)
            .allSatisfy(c -> assertThat(c.nodeId()).isEqualTo(1));
      } else {
        assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(r.nodeId()).isEqualTo(1);
        assertThat(r.port()).isEqualTo(broker.kafkaPort());
      }
      if (v >= 1) {
        request.setKeyType(CoordinatorType.TRANSACTION.id());
        final var tx = (FindCoordinatorResponseData) call(ApiKeys.FIND_COORDINATOR, v, request);
        final short code = v >= 4 ? tx.coordinators().get(0).errorCode() : tx.errorCode();
        assertThat(code).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE.code());
      }
    }
  }

  @Test
  void joinSyncHeartbeatAndLeaveEncodeAtEveryVersion() throws Exception {
    final ApiRegistry.Entry joinEntry = entry(ApiKeys.JOIN_GROUP);
    for (short v = joinEntry.minVersion(); v <= joinEntry.maxVersion(); v++) {
      final String group = "join-" + v;
      final JoinGroupResponseData joined = joinAlone(group, v);
      assertThat(joined.leader()).isEqualTo(joined.memberId());
      assertThat(joined.protocolName()).isEqualTo("range");
      assertThat(joined.members()).hasSize(1);
      assertThat(joined.members().get(0).metadata()).isEqualTo(SUBSCRIPTION);
      final var invalid = (JoinGroupResponseData) call(ApiKeys.JOIN_GROUP, v, join(group, "", 10));
      assertThat(invalid.errorCode()).isEqualTo(Errors.INVALID_SESSION_TIMEOUT.code());
    }
    final ApiRegistry.Entry syncEntry = entry(ApiKeys.SYNC_GROUP);
    for (short v = syncEntry.minVersion(); v <= syncEntry.maxVersion(); v++) {
      final String group = "sync-" + v;
      final JoinGroupResponseData joined = joinAlone(group, joinEntry.maxVersion());
      assertThat(sync(group, v, joined, joined.generationId() + 1).errorCode())
          .isEqualTo(Errors.ILLEGAL_GENERATION.code());
      final SyncGroupResponseData synced = sync(group, v, joined, joined.generationId());
      assertThat(synced.errorCode()).isEqualTo(Errors.NONE.code());
      assertThat(synced.assignment()).containsExactly(7);
    }
    final JoinGroupResponseData member = joinAlone("beat", joinEntry.maxVersion());
    sync("beat", syncEntry.maxVersion(), member, member.generationId());
    final ApiRegistry.Entry beatEntry = entry(ApiKeys.HEARTBEAT);
    for (short v = beatEntry.minVersion(); v <= beatEntry.maxVersion(); v++) {
      final var beat =
          new HeartbeatRequestData()
              .setGroupId("beat")
              .setMemberId(member.memberId())
              .setGenerationId(member.generationId());
      assertThat(((HeartbeatResponseData) call(ApiKeys.HEARTBEAT, v, beat)).errorCode())
          .isEqualTo(Errors.NONE.code());
      beat.setMemberId("nobody");
      assertThat(((HeartbeatResponseData) call(ApiKeys.HEARTBEAT, v, beat)).errorCode())
          .isEqualTo(Errors.UNKNOWN_MEMBER_ID.code());
    }
    final ApiRegistry.Entry leaveEntry = entry(ApiKeys.LEAVE_GROUP);
    for (short v = leaveEntry.minVersion(); v <= leaveEntry.maxVersion(); v++) {
      final String group = "leave-" + v;
      final JoinGroupResponseData joined = joinAlone(group, joinEntry.maxVersion());
      final var leave =
          new LeaveGroupRequestData().setGroupId(group).setMemberId(joined.memberId());
      leave
          .members()
          .add(new LeaveGroupRequestData.MemberIdentity().setMemberId(joined.memberId()));
      leave.members().add(new LeaveGroupRequestData.MemberIdentity().setMemberId("nobody"));
      final var left = (LeaveGroupResponseData) call(ApiKeys.LEAVE_GROUP, v, leave);
      assertThat(left.errorCode()).isEqualTo(Errors.NONE.code());
      if (v >= 3) {
        assertThat(left.members())
            .extracting(m -> Errors.forCode(m.errorCode()))
            .containsExactly(Errors.NONE, Errors.UNKNOWN_MEMBER_ID);
      }
    }
  }

  private static OffsetCommitRequestData commit(String group, int... partitions) {
    final var topic = new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t");
    for (int p : partitions) {
      topic
          .partitions()
          .add(
              new OffsetCommitRequestData.OffsetCommitRequestPartition()
                  .setPartitionIndex(p)
                  .setCommittedOffset(5)
                  .setCommittedMetadata("m"));
    }
    return new OffsetCommitRequestData()
        .setGroupId(group)
        .setGenerationIdOrMemberEpoch(-1)
        .setMemberId("")
        .setTopics(List.of(topic));
  }

  @Test
  void offsetCommitFetchAndDeleteEncodeAtEveryVersion() throws Exception {
    awaitCoordinator("offsets");
    final ApiRegistry.Entry commitEntry = entry(ApiKeys.OFFSET_COMMIT);
    for (short v = commitEntry.minVersion(); v <= commitEntry.maxVersion(); v++) {
      final var r =
          (OffsetCommitResponseData) call(ApiKeys.OFFSET_COMMIT, v, commit("offsets", 0, 1, 7));
      assertThat(r.topics().get(0).partitions())
          .extracting(p -> Errors.forCode(p.errorCode()))
          .containsExactly(Errors.NONE, Errors.NONE, Errors.UNKNOWN_TOPIC_OR_PARTITION);
    }
    final ApiRegistry.Entry fetchEntry = entry(ApiKeys.OFFSET_FETCH);
    for (short v = fetchEntry.minVersion(); v <= fetchEntry.maxVersion(); v++) {
      final var topic =
          new OffsetFetchRequestData.OffsetFetchRequestTopic()
              .setName("t")
              .setPartitionIndexes(List.of(0, 1));
      final var topics =
          new OffsetFetchRequestData.OffsetFetchRequestTopics()
              .setName("t")
              .setPartitionIndexes(List.of(0, 1));
      final var request =
          new OffsetFetchRequestData()
              .setGroupId("offsets")
              .setTopics(List.of(topic))
              .setGroups(
                  List.of(
                      new OffsetFetchRequestData.OffsetFetchRequestGroup()
                          .setGroupId("offsets")
                          .setTopics(List.of(topics)),
                      new OffsetFetchRequestData.OffsetFetchRequestGroup()
                          .setGroupId("unknown")
                          .setTopics(null)));
      final var r = (OffsetFetchResponseData) call(ApiKeys.OFFSET_FETCH, v, request);
      if (v >= 8) {
        assertThat(r.groups()).hasSize(2);
        assertThat(r.groups().get(0).topics().get(0).partitions())
            .allSatisfy(p -> assertThat(p.committedOffset()).isEqualTo(5));
        assertThat(r.groups().get(1).topics()).isEmpty();
      } else {
        assertThat(r.topics().get(0).partitions())
            .allSatisfy(
                p -> {
                  assertThat(p.committedOffset()).isEqualTo(5);
                  assertThat(p.metadata()).isEqualTo("m");
                });
      }
    }
    final var delete = new OffsetDeleteRequestData().setGroupId("offsets");
    final var deleteTopic = new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("t");
    deleteTopic
        .partitions()
        .add(new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(1));
    delete.topics().add(deleteTopic);
    final ApiRegistry.Entry deleteEntry = entry(ApiKeys.OFFSET_DELETE);
    for (short v = deleteEntry.minVersion(); v <= deleteEntry.maxVersion(); v++) {
      final var r = (OffsetDeleteResponseData) call(ApiKeys.OFFSET_DELETE, v, delete);
      assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
      assertThat(r.topics().find("t").partitions().find(1).errorCode())
          .isEqualTo(Errors.NONE.code());
      delete.setGroupId("missing");
      assertThat(((OffsetDeleteResponseData) call(ApiKeys.OFFSET_DELETE, v, delete)).errorCode())
          .isEqualTo(Errors.GROUP_ID_NOT_FOUND.code());
    }
  }

  @Test
  void listDescribeAndDeleteGroupsEncodeAtEveryVersion() throws Exception {
    final JoinGroupResponseData joined =
        joinAlone("listed", entry(ApiKeys.JOIN_GROUP).maxVersion());
    sync("listed", entry(ApiKeys.SYNC_GROUP).maxVersion(), joined, joined.generationId());
    final ApiRegistry.Entry listEntry = entry(ApiKeys.LIST_GROUPS);
    for (short v = listEntry.minVersion(); v <= listEntry.maxVersion(); v++) {
      final var r =
          (ListGroupsResponseData) call(ApiKeys.LIST_GROUPS, v, new ListGroupsRequestData());
      assertThat(r.groups())
          .anySatisfy(
              g -> {
                assertThat(g.groupId()).isEqualTo("listed");
                assertThat(g.protocolType()).isEqualTo("consumer");
              });
    }
    final ApiRegistry.Entry describeEntry = entry(ApiKeys.DESCRIBE_GROUPS);
    for (short v = describeEntry.minVersion(); v <= describeEntry.maxVersion(); v++) {
      final var r =
          (DescribeGroupsResponseData)
              call(
                  ApiKeys.DESCRIBE_GROUPS,
                  v,
                  new DescribeGroupsRequestData().setGroups(List.of("listed", "missing")));
      final var listed = r.groups().get(0);
      assertThat(listed.groupState()).isEqualTo("Stable");
      assertThat(listed.protocolData()).isEqualTo("range");
      assertThat(listed.members()).hasSize(1);
      assertThat(listed.members().get(0).memberAssignment()).containsExactly(7);
      assertThat(r.groups().get(1).groupState()).isEqualTo("Dead");
      assertThat(r.groups().get(1).errorCode())
          .isEqualTo(v >= 6 ? Errors.GROUP_ID_NOT_FOUND.code() : Errors.NONE.code());
    }
    final ApiRegistry.Entry deleteEntry = entry(ApiKeys.DELETE_GROUPS);
    for (short v = deleteEntry.minVersion(); v <= deleteEntry.maxVersion(); v++) {
      final String group = "deleted-" + v;
      awaitCoordinator(group);
      call(ApiKeys.OFFSET_COMMIT, entry(ApiKeys.OFFSET_COMMIT).maxVersion(), commit(group, 0));
      final var r =
          (DeleteGroupsResponseData)
              call(
                  ApiKeys.DELETE_GROUPS,
                  v,
                  new DeleteGroupsRequestData()
                      .setGroupsNames(List.of(group, "missing", "listed")));
      assertThat(r.results())
          .extracting(g -> Errors.forCode(g.errorCode()))
          .containsExactly(Errors.NONE, Errors.GROUP_ID_NOT_FOUND, Errors.NON_EMPTY_GROUP);
    }
  }
}
