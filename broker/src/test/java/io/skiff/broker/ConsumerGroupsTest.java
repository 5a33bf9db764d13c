package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.broker.api.RequestContext;
import io.skiff.testing.Await;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Consumer groups (classic protocol) with real kafka-clients against three real brokers. */
class ConsumerGroupsTest {
  static final Map<String, String> GROUP_SETTINGS =
      Map.of(
          "offsets.topic.num.partitions", "3",
          "group.initial.rebalance.delay.ms", "0",
          "group.min.session.timeout.ms", "1000");

  @TempDir Path dir;
  private BrokerCluster cluster;
  private Admin admin;

  @BeforeEach
  void startCluster() throws Exception {
    cluster = new BrokerCluster(dir, 3, GROUP_SETTINGS);
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()));
  }

  @AfterEach
  void stopCluster() {
    admin.close(Duration.ofSeconds(5));
    cluster.close();
  }

  static Properties groupConsumerProps(String bootstrap, String group) {
    final Properties p = KafkaClientsTest.consumerProps(bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "200");
    return p;
  }

  private void createTopic(String name, int partitions) throws Exception {
    admin
        .createTopics(List.of(new NewTopic(name, partitions, (short) 3)))
        .all()
        .get(60, TimeUnit.SECONDS);
  }

  private void produce(String topic, int from, int count) throws Exception {
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(KafkaClientsTest.producerProps(cluster.bootstrap()))) {
      for (int i = from; i < from + count; i++) {
        producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i));
      }
      producer.flush();
    }
  }

  /** A group member polling on its own thread, committing synchronously after each poll. */
  final class Member {
    final Set<String> seen;
    final AtomicBoolean running = new AtomicBoolean(true);
    final Set<TopicPartition> assignment = ConcurrentHashMap.newKeySet();
    final Thread thread;
    volatile Throwable failure;
    final java.util.concurrent.atomic.AtomicInteger commitFailures =
        new java.util.concurrent.atomic.AtomicInteger();

    Member(String group, String topic, Set<String> seen) {
      this.seen = seen;
      this.thread =
          new Thread(
              () -> {
                try (KafkaConsumer<String, String> consumer =
                    new KafkaConsumer<>(groupConsumerProps(cluster.bootstrap(), group))) {
                  consumer.subscribe(List.of(topic));
                  while (running.get()) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                      seen.add(r.value());
                    }
                    assignment.clear();
                    assignment.addAll(consumer.assignment());
                    try {
                      consumer.commitSync(Duration.ofSeconds(10));
                    } catch (org.apache.kafka.common.errors.RetriableException
                        | org.apache.kafka.clients.consumer.CommitFailedException
                        | org.apache.kafka.common.errors.RebalanceInProgressException e) {
                      // the next poll rejoins or retries; uncommitted records are read again
                      commitFailures.incrementAndGet();
                    }
                  }
                } catch (Throwable t) {
                  failure = t;
                }
              },
              "test-member");
      thread.start();
    }

    void close() throws InterruptedException {
      running.set(false);
      thread.join(30_000);
      assertThat(thread.isAlive()).as("member closed").isFalse();
      assertThat(failure).as("member failure").isNull();
    }
  }

  private static void await(String what, long seconds, java.util.function.BooleanSupplier done)
      throws InterruptedException {
    Await.atMost(Duration.ofSeconds(seconds)).until(what, done);
  }

  private static Set<String> values(int from, int count) {
    final Set<String> values = new HashSet<>();
    for (int i = from; i < from + count; i++) {
      values.add("v" + i);
    }
    return values;
  }

  @Test
  void threeMembersShareTwelvePartitionsAndSurviveAMemberLeaving() throws Exception {
    createTopic("orders", 12);
    produce("orders", 0, 6000);
    final Set<String> seen = ConcurrentHashMap.newKeySet();
    final List<Member> members = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      members.add(new Member("g1", "orders", seen));
    }
    await(
        "three members with four partitions each",
        90,
        () -> members.stream().allMatch(m -> m.assignment.size() == 4));
    await("the first 6000 records", 90, () -> seen.containsAll(values(0, 6000)));

    final long closed = System.nanoTime();
    members.remove(0).close();
    await(
        "two members sharing all twelve partitions",
        30,
        () ->
            members.stream().mapToInt(m -> m.assignment.size()).sum() == 12
                && members.stream().allMatch(m -> m.assignment.size() == 6));
    final long rebalanceMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closed);
    assertThat(rebalanceMs).as("rebalance after a member left, ms").isLessThan(6000);
    produce("orders", 6000, 6000);
    await("all 12000 records", 90, () -> seen.containsAll(values(0, 12_000)));
    for (Member m : members) {
      m.close();
    }

    final Map<TopicPartition, OffsetAndMetadata> committed =
        admin
            .listConsumerGroupOffsets("g1")
            .partitionsToOffsetAndMetadata()
            .get(60, TimeUnit.SECONDS);
    assertThat(committed).hasSize(12);
    assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum())
        .isEqualTo(12_000);

    produce("orders", 12_000, 100);
    final Set<String> resumed = ConcurrentHashMap.newKeySet();
    final Member next = new Member("g1", "orders", resumed);
    await("the 100 records produced after the commit", 90, () -> resumed.size() >= 100);
    Thread.sleep(1000);
    next.close();
    assertThat(resumed).isEqualTo(values(12_000, 100));
    System.out.printf("rebalance after a member left: %d ms%n", rebalanceMs);
  }

  private long committedSum(String group) throws Exception {
    return admin
        .listConsumerGroupOffsets(group)
        .partitionsToOffsetAndMetadata()
        .get(60, TimeUnit.SECONDS)
        .values()
        .stream()
        .mapToLong(OffsetAndMetadata::offset)
        .sum();
  }

  private ConsumerGroupDescription describe(String group) throws Exception {
    return admin.describeConsumerGroups(List.of(group)).all().get(60, TimeUnit.SECONDS).get(group);
  }

  @Test
  void groupRecoversOnTheNewLeaderOfItsOffsetsPartitionWhenTheCoordinatorDies() throws Exception {
    createTopic("events", 6);
    produce("events", 0, 3000);
    final Set<String> seen = ConcurrentHashMap.newKeySet();
    final List<Member> members =
        List.of(new Member("g2", "events", seen), new Member("g2", "events", seen));
    await("the first 3000 records", 90, () -> seen.containsAll(values(0, 3000)));
    awaitCommitted("g2", 3000);
    final int coordinator = describe("g2").coordinator().id();

    final long killed = System.nanoTime();
    cluster.stop(coordinator);
    produce("events", 3000, 3000);
    await(
        "all 6000 records after the coordinator died",
        120,
        () -> seen.containsAll(values(0, 6000)));
    awaitCommitted("g2", 6000);
    final long recoveredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
    // A member whose heartbeat met the dead coordinator may still be rejoining: wait for the
    // rebalance it started to settle, then check who coordinates.
    final java.util.concurrent.atomic.AtomicReference<ConsumerGroupDescription> stable =
        new java.util.concurrent.atomic.AtomicReference<>();
    await(
        "g2 stable again",
        60,
        () -> {
          try {
            final ConsumerGroupDescription d = describe("g2");
            stable.set(d);
            return d.groupState() == GroupState.STABLE;
          } catch (Exception e) {
            return false;
          }
        });
    final ConsumerGroupDescription after = stable.get();
    assertThat(after.coordinator().id()).isNotEqualTo(coordinator);
    assertThat(after.groupState()).isEqualTo(GroupState.STABLE);
    for (Member m : members) {
      m.close();
    }
    System.out.printf(
        "coordinator %d killed: all records consumed and committed again after %d ms%n",
        coordinator, recoveredMs);
  }

  private void awaitCommitted(String group, long sum) throws InterruptedException {
    await(
        "committed offsets of " + group + " summing to " + sum,
        120,
        () -> {
          try {
            return committedSum(group) == sum;
          } catch (Exception e) {
            return false;
          }
        });
  }

  @Test
  void adminListsDescribesAltersAndDeletesGroups() throws Exception {
    createTopic("audit", 3);
    produce("audit", 0, 300);
    final Set<String> seen = ConcurrentHashMap.newKeySet();
    final Member member = new Member("g3", "audit", seen);
    await("300 records", 90, () -> seen.size() == 300);
    awaitCommitted("g3", 300);

    assertThat(
            admin
                .describeTopics(List.of("__consumer_offsets"))
                .allTopicNames()
                .get(60, TimeUnit.SECONDS)
                .get("__consumer_offsets")
                .isInternal())
        .isTrue();
    assertThat(admin.listTopics().names().get(60, TimeUnit.SECONDS))
        .as("internal topics are hidden by default")
        .doesNotContain("__consumer_offsets");
    final Collection<GroupListing> listed =
        admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get(60, TimeUnit.SECONDS);
    assertThat(listed)
        .anySatisfy(
            g -> {
              assertThat(g.groupId()).isEqualTo("g3");
              assertThat(g.groupState()).contains(GroupState.STABLE);
              assertThat(g.type()).contains(GroupType.CLASSIC);
            });
    final ConsumerGroupDescription stable = describe("g3");
    assertThat(stable.groupState()).isEqualTo(GroupState.STABLE);
    assertThat(stable.partitionAssignor()).isNotEmpty();
    assertThat(stable.members()).hasSize(1);
    assertThat(stable.members().iterator().next().assignment().topicPartitions()).hasSize(3);

    final TopicPartition p0 = new TopicPartition("audit", 0);
    final Map<TopicPartition, OffsetAndMetadata> rewind =
        Map.of(
            p0, new OffsetAndMetadata(1), new TopicPartition("audit", 1), new OffsetAndMetadata(2));
    assertThatThrownBy(
            () -> admin.deleteConsumerGroups(List.of("g3")).all().get(60, TimeUnit.SECONDS))
        .hasCauseInstanceOf(GroupNotEmptyException.class);
    assertThatThrownBy(
            () -> admin.alterConsumerGroupOffsets("g3", rewind).all().get(60, TimeUnit.SECONDS))
        .hasCauseInstanceOf(UnknownMemberIdException.class);

    member.close();
    assertThat(describe("g3").groupState()).isEqualTo(GroupState.EMPTY);
    admin.alterConsumerGroupOffsets("g3", rewind).all().get(60, TimeUnit.SECONDS);
    final Map<TopicPartition, OffsetAndMetadata> altered =
        admin
            .listConsumerGroupOffsets("g3")
            .partitionsToOffsetAndMetadata()
            .get(60, TimeUnit.SECONDS);
    assertThat(altered.get(p0).offset()).isEqualTo(1);
    assertThat(altered.get(new TopicPartition("audit", 1)).offset()).isEqualTo(2);
    assertThat(altered).hasSize(3);

    admin.deleteConsumerGroupOffsets("g3", Set.of(p0)).all().get(60, TimeUnit.SECONDS);
    assertThat(
            admin
                .listConsumerGroupOffsets("g3")
                .partitionsToOffsetAndMetadata()
                .get(60, TimeUnit.SECONDS))
        .hasSize(2)
        .doesNotContainKey(p0);

    admin.deleteConsumerGroups(List.of("g3")).all().get(60, TimeUnit.SECONDS);
    assertThat(
            admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get(60, TimeUnit.SECONDS))
        .noneMatch(g -> g.groupId().equals("g3"));
    assertThat(
            admin
                .listConsumerGroupOffsets("g3")
                .partitionsToOffsetAndMetadata()
                .get(60, TimeUnit.SECONDS))
        .isEmpty();
    assertThatThrownBy(() -> describe("g3")).hasCauseInstanceOf(GroupIdNotFoundException.class);
  }

  /** Calls a broker's handler directly, as a client that then goes silent would. */
  private static ApiMessage call(Broker broker, ApiKeys key, ApiMessage request) throws Exception {
    final short version = broker.apis().get(key).maxVersion();
    final RequestContext context =
        new RequestContext(
            new RequestHeader(key, version, "silent-member", 1), new InetSocketAddress(0));
    return broker.apis().get(key).handler().handle(context, request).get(60, TimeUnit.SECONDS);
  }

  @Test
  void membersTakeOverThePartitionsOfAMemberThatStopsHeartbeating() throws Exception {
    createTopic("jobs", 12);
    produce("jobs", 0, 1200);
    final Set<String> seen = ConcurrentHashMap.newKeySet();
    final List<Member> members =
        List.of(new Member("g4", "jobs", seen), new Member("g4", "jobs", seen));
    await(
        "two members with six partitions each",
        90,
        () -> members.stream().allMatch(m -> m.assignment.size() == 6));
    final Broker coordinator = cluster.broker(describe("g4").coordinator().id());

    // A member that joins and syncs like a consumer, takes its share, then dies silently.
    final var protocols = new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
    protocols.add(
        new JoinGroupRequestData.JoinGroupRequestProtocol()
            .setName("range")
            .setMetadata(
                Utils.toArray(
                    ConsumerProtocol.serializeSubscription(
                        new ConsumerPartitionAssignor.Subscription(List.of("jobs"))))));
    final JoinGroupRequestData join =
        new JoinGroupRequestData()
            .setGroupId("g4")
            .setMemberId("")
            .setSessionTimeoutMs(6000)
            .setRebalanceTimeoutMs(30_000)
            .setProtocolType("consumer")
            .setProtocols(protocols);
    final var required = (JoinGroupResponseData) call(coordinator, ApiKeys.JOIN_GROUP, join);
    assertThat(required.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
    final var joined =
        (JoinGroupResponseData)
            call(coordinator, ApiKeys.JOIN_GROUP, join.setMemberId(required.memberId()));
    assertThat(joined.errorCode()).isEqualTo(Errors.NONE.code());
    SyncGroupResponseData synced;
    do {
      synced =
          (SyncGroupResponseData)
              call(
                  coordinator,
                  ApiKeys.SYNC_GROUP,
                  new SyncGroupRequestData()
                      .setGroupId("g4")
                      .setMemberId(joined.memberId())
                      .setGenerationId(joined.generationId()));
    } while (synced.errorCode() == Errors.NONE.code() && synced.assignment().length == 0);
    assertThat(synced.errorCode()).isEqualTo(Errors.NONE.code());
    final long silent = System.nanoTime();
    await(
        "the live members holding a third of the partitions less",
        30,
        () -> members.stream().mapToInt(m -> m.assignment.size()).sum() == 8);

    await(
        "the live members taking back all twelve partitions",
        60,
        () -> members.stream().mapToInt(m -> m.assignment.size()).sum() == 12);
    final long takeOverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - silent);
    assertThat(takeOverMs)
        .as("ms until the silent member's partitions moved")
        .isGreaterThanOrEqualTo(5000);
    produce("jobs", 1200, 1200);
    await("all 2400 records", 90, () -> seen.containsAll(values(0, 2400)));
    for (Member m : members) {
      m.close();
    }
    System.out.printf("silent member expired and its partitions moved after %d ms%n", takeOverMs);
  }
}
