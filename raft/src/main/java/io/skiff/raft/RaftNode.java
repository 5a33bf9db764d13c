package io.skiff.raft;

import io.skiff.log.FileSystemSync;
import io.skiff.log.IndexMemoryBudget;
import io.skiff.log.LogConfig;
import io.skiff.raft.catchup.ReplicaFetcher;
import io.skiff.raft.leadership.FirstElection;
import io.skiff.raft.leadership.LeaderTakeover;
import io.skiff.raft.leadership.PeerLiveness;
import io.skiff.raft.membership.PartitionMembership;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.MetadataListeners;
import io.skiff.raft.metadata.MetadataPublisher;
import io.skiff.raft.metadata.MetadataService;
import io.skiff.raft.metadata.MetadataStateMachine;
import io.skiff.raft.metadata.TopicConfigApplier;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.PartitionStateMachine;
import io.skiff.raft.partition.ReplicatedPartition;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.ObjLongConsumer;
import org.agrona.concurrent.SystemEpochClock;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.util.ExitUtils;
import org.apache.ratis.util.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker's Raft presence: a single Ratis {@link RaftServer} hosting the groups of every
 * partition replica on this broker (multi-raft), the partition logs under the data directory, the
 * broker-wide {@link IndexMemoryBudget}, and the {@link ReplicaFetcher}.
 *
 * <p>Lifecycle: construct, {@link #start()}, add partitions with {@link #createPartition}, {@link
 * #close()}. On restart the groups found on disk are started again with their logs. Thread-safe.
 */
public final class RaftNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);
  private static final String PEER_PREFIX = "broker-";

  /** How long a new group's first voter waits at least for its peers before timeouts take over. */
  private static final long FIRST_ELECTION_MIN_WAIT_MS = 10_000;

  /** The metadata group's id, the same in every Skiff cluster. */
  public static final RaftGroupId METADATA_GROUP =
      RaftGroupId.valueOf(
          java.util.UUID.nameUUIDFromBytes(
              "skiff/metadata".getBytes(java.nio.charset.StandardCharsets.UTF_8)));

  private final RaftNodeConfig config;
  private final RaftPeerId peerId;
  private final IndexMemoryBudget budget;
  private final PartitionCatalog catalog;
  private final ConcurrentHashMap<RaftGroupId, PartitionStateMachine> machines =
      new ConcurrentHashMap<>();

  /** The same replicas by partition, so request paths look them up without hashing a group id. */
  private final ConcurrentHashMap<PartitionId, ReplicatedPartition> replicas =
      new ConcurrentHashMap<>();

  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final RaftServer server;
  private final ReplicaFetcher fetcher;
  private final PartitionMembership membership;
  private final FirstElection firstElection;
  private final PeerLiveness liveness;
  private final LeaderTakeover takeover;

  /** The metadata voters given to {@link #startMetadata}: peers to probe before any image. */
  private volatile Collection<RaftPeer> metadataVoters = java.util.List.of();

  private final MetadataPublisher metadataImages = new MetadataPublisher();

  /** The state machine of this broker's metadata division now; a new one after each restart. */
  private volatile MetadataStateMachine metadataMachine;

  /** Clients of the metadata voters; set by {@link #startMetadata}. */
  private volatile java.util.function.Supplier<RaftClient> metadataClients;

  private volatile MetadataService metadata;
  private volatile LongConsumer commitLatency = nanos -> {};
  private volatile MetadataListeners metadataListeners;
  private final RaftLogRecovery logRecovery;

  /**
   * One syncfs round for every partition flush under way, covering each partition's segments and
   * Raft log (both under the data directory); null when fsync is off or syncfs is not available.
   */
  private final FileSystemSync fileSystemSync;

  public RaftNode(RaftNodeConfig config) throws IOException {
    DataDirectoryOwner.bind(config.dataDir(), config.nodeId());
    this.config = config;
    this.peerId = peerId(config.nodeId());
    this.budget = new IndexMemoryBudget(config.maxMappedIndexBytes(), config.indexHints());
    this.catalog = new PartitionCatalog(config.dataDir().resolve("log"));
    this.fileSystemSync =
        config.fsync()
            ? FileSystemSync.open(
                java.util.List.of(
                    config.dataDir().resolve("raft"), config.dataDir().resolve("log")),
                TimeUnit.MICROSECONDS.toNanos(config.syncfsIntervalMinMicros()))
            : null;
    // Before the server: building it starts the state machines of the groups already on disk.
    this.logRecovery = new RaftLogRecovery(config.dataDir(), this::restartFromDisk);
    try {
      this.server =
          RaftServer.newBuilder()
              .setServerId(peerId)
              .setProperties(RatisProperties.server(config))
              .setStateMachineRegistry(this::newStateMachine)
              .setOption(RaftStorage.StartupOption.RECOVER)
              .build();
    } catch (IOException | RuntimeException e) {
      logRecovery.close();
      closeFileSystemSync();
      throw e;
    }
    this.fetcher =
        new ReplicaFetcher(
            config.replicaFetch(),
            server,
            RatisProperties.client(config.rpcType()),
            new Parameters());
    this.membership = new PartitionMembership(this, RatisProperties.client(config.rpcType()));
    this.firstElection =
        new FirstElection(
            server,
            peerId,
            RatisProperties.client(config.rpcType()),
            Math.max(config.electionTimeoutMaxMs(), FIRST_ELECTION_MIN_WAIT_MS));
    this.liveness =
        new PeerLiveness(
            peerId,
            System::nanoTime,
            config.livenessIntervalMs(),
            config.livenessTimeoutMs(),
            METADATA_GROUP,
            RatisProperties.client(config.rpcType(), config.livenessTimeoutMs() / 2));
    this.takeover = new LeaderTakeover(server, peerId, liveness, LeaderTakeover.DEFAULT_STAGGER_MS);
    metadataImages.addListener(this::trackPeers);
  }

  /** The Raft peer id of broker {@code nodeId}. */
  public static RaftPeerId peerId(int nodeId) {
    return RaftPeerId.valueOf(PEER_PREFIX + nodeId);
  }

  /** The Raft peer of broker {@code nodeId} reachable at {@code host:port}. */
  public static RaftPeer peer(int nodeId, String address) {
    return RaftPeer.newBuilder().setId(peerId(nodeId)).setAddress(address).build();
  }

  /** The broker id in a peer id; -1 if it is not one of ours. */
  public static int nodeIdOf(Object peerId) {
    final String s = String.valueOf(peerId);
    if (!s.startsWith(PEER_PREFIX)) {
      return -1;
    }
    try {
      return Integer.parseInt(s.substring(PEER_PREFIX.length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  public void start() throws IOException {
    // Ratis ends the JVM with System.exit when its gRPC server cannot bind, and fails the start
    // with a BindException over Netty; a broker reports either as a failed start, with the address
    // it could not listen on.
    ExitUtils.disableSystemExit();
    try {
      server.start();
    } catch (ExitUtils.ExitException e) {
      final Throwable bind = bindFailure(e);
      throw cannotListen(e, bind != null ? bind : e.getCause() != null ? e.getCause() : e);
    } catch (IOException e) {
      final Throwable bind = bindFailure(e);
      if (bind == null) {
        throw e;
      }
      throw cannotListen(e, bind);
    }
    // A group this node is the only voter of elects itself at once, not after its timeout.
    takeover.restarted(server.getGroupIds());
    liveness.start(this::reportReplies, takeover::onTick);
    LOG.info(
        "Raft node {} listening on {} with {} partitions",
        peerId,
        config.address(),
        catalog.size());
  }

  private IOException cannotListen(Exception e, Throwable why) {
    return new IOException(
        "cannot listen for Raft on "
            + config.address()
            + " (is another process using the port?): "
            + why.getMessage(),
        e);
  }

  /** The {@link BindException} among {@code e}'s causes, or null. */
  private static BindException bindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException bind) {
        return bind;
      }
    }
    return null;
  }

  public RaftNodeConfig config() {
    return config;
  }

  public RaftPeer self() {
    return peer(config.nodeId(), config.address());
  }

  public IndexMemoryBudget indexBudget() {
    return budget;
  }

  public ReplicaFetcher replicaFetcher() {
    return fetcher;
  }

  /**
   * Creates this broker's replica of a partition in a group of {@code peers} (which must include
   * this node). Every peer must do the same; the group elects a leader once a majority has. The
   * first of the {@code peers} (the partition's preferred replica) starts a new group's first
   * election as soon as a majority hosts it ({@link FirstElection}); the others wait for their
   * election timeout, which then never fires.
   */
  public ReplicatedPartition createPartition(PartitionId id, Collection<RaftPeer> peers)
      throws IOException {
    catalog.register(id, other -> machines.containsKey(other.groupId()));
    final RaftGroup group = RaftGroup.valueOf(id.groupId(), peers);
    final boolean freshStorage = !Files.exists(raftStorageDir(id.groupId()));
    final RaftClientReply reply;
    try {
      reply =
          server.groupManagement(
              GroupManagementRequest.newAdd(clientId, peerId, nextCallId(), group));
    } catch (IOException | RuntimeException e) {
      forgetFailedGroup(id, freshStorage);
      throw e;
    }
    if (!reply.isSuccess()) {
      forgetFailedGroup(id, freshStorage);
      throw new IOException("cannot create " + id + " on " + peerId + ": " + reply.getException());
    }
    if (freshStorage && peers.iterator().next().getId().equals(peerId)) {
      firstElection.submit(group);
    }
    return partition(id).orElseThrow();
  }

  /**
   * Drops what a failed group add left behind, so that a later attempt starts afresh: Ratis may
   * have built the state machine, and formatted (and still locks) the group's Raft storage, before
   * the division failed to start. Storage that existed before the attempt is kept.
   */
  private void forgetFailedGroup(PartitionId id, boolean freshStorage) {
    for (RaftGroupId present : server.getGroupIds()) {
      if (present.equals(id.groupId())) {
        return; // the group exists after all: keep its state machine
      }
    }
    final PartitionStateMachine machine = machines.remove(id.groupId());
    replicas.remove(id);
    if (machine != null) {
      try {
        machine.close();
      } catch (IOException e) {
        LOG.warn("Cannot close the partition log of failed group {}: {}", id, e.toString());
      }
    }
    final Path storage = raftStorageDir(id.groupId());
    if (freshStorage && Files.exists(storage)) {
      try {
        FileUtils.deleteFully(storage);
        LOG.info("Deleted the Raft storage {} that the failed add of {} formatted", storage, id);
      } catch (IOException e) {
        LOG.warn(
            "Cannot delete {} after the failed add of {}; the next attempt may fail to format it"
                + " ({}); remove the directory by hand",
            storage,
            id,
            e.toString());
      }
    }
  }

  /** Where Ratis keeps a group's Raft log and snapshots on this node. */
  private Path raftStorageDir(RaftGroupId groupId) {
    return config.dataDir().resolve("raft").resolve(groupId.getUuid().toString());
  }

  /**
   * Creates this broker's replica of an existing partition as a non-voting listener, the first step
   * of a reassignment onto this broker: {@code voters} is the group's current voter list. The
   * leader then adds it with {@link PartitionMembership#reassign}.
   */
  public ReplicatedPartition joinPartition(PartitionId id, Collection<RaftPeer> voters)
      throws IOException {
    final java.util.List<RaftPeer> peers = new java.util.ArrayList<>(voters);
    peers.add(PartitionMembership.asListener(self()));
    return createPartition(id, peers);
  }

  /**
   * Joins (or on first start, creates) the metadata group: {@code voters} replicate and elect, the
   * {@code listeners} only follow. Idempotent across restarts: a group already on disk is kept. A
   * broker not among the voters passes itself as a listener: its replica then waits, as a listener,
   * until the leader adds it ({@link MetadataListeners#join}). Changes go to the voters only. As
   * for a partition, the first voter starts a new group's first election ({@link FirstElection}).
   */
  public MetadataService startMetadata(Collection<RaftPeer> voters, Collection<RaftPeer> listeners)
      throws IOException {
    final java.util.List<RaftPeer> peers = new java.util.ArrayList<>(voters);
    listeners.forEach(l -> peers.add(PartitionMembership.asListener(l)));
    final RaftGroup group = RaftGroup.valueOf(METADATA_GROUP, peers);
    final RaftGroup votersOnly = RaftGroup.valueOf(METADATA_GROUP, voters);
    final java.util.function.Supplier<RaftClient> clients =
        () ->
            RaftClient.newBuilder()
                .setRaftGroup(votersOnly)
                .setProperties(RatisProperties.client(config.rpcType()))
                .setParameters(new Parameters())
                .setRetryPolicy(MetadataService.retryPolicy())
                .build();
    metadataClients = clients;
    boolean present = false;
    for (RaftGroupId id : server.getGroupIds()) {
      present |= id.equals(METADATA_GROUP);
    }
    if (!present) {
      final RaftClientReply reply =
          server.groupManagement(
              GroupManagementRequest.newAdd(clientId, peerId, nextCallId(), group));
      if (!reply.isSuccess()) {
        throw new IOException("cannot join the metadata group: " + reply.getException());
      }
      if (!voters.isEmpty() && voters.iterator().next().getId().equals(peerId)) {
        firstElection.submit(group);
      }
    }
    metadataVoters = java.util.List.copyOf(voters);
    trackPeers(metadataImages.image()); // the voters at once, the brokers as images come
    metadataListeners =
        new MetadataListeners(
            server, java.util.List.copyOf(voters), RatisProperties.client(config.rpcType()));
    metadata = new MetadataService(metadataImages, clients);
    return metadata;
  }

  /**
   * Probes the brokers the metadata lists (decommissioned ones dropped) and, until it lists them,
   * the metadata voters.
   */
  private void trackPeers(MetadataImage image) {
    final Map<RaftPeerId, RaftPeer> peers = new HashMap<>();
    metadataVoters.forEach(v -> peers.put(v.getId(), v));
    for (BrokerInfo broker : image.brokers().values()) {
      if (broker.active()) {
        peers.put(peerId(broker.nodeId()), peer(broker.nodeId(), broker.raftAddress()));
      } else {
        peers.remove(peerId(broker.nodeId()));
      }
    }
    liveness.track(peers.values());
  }

  /**
   * Reports, for each peer, the last AppendEntries reply that a group led here had from it since
   * this node began to lead the group: a peer that answers Raft traffic is alive, whatever became
   * of its probes. A new leader's follower record starts with no reply (a time before the lead
   * began), which is left out.
   */
  private void reportReplies(ObjLongConsumer<RaftPeerId> heard, long nowNanos) {
    for (RaftGroupId groupId : server.getGroupIds()) {
      final RoleInfoProto role;
      try {
        role = server.getDivision(groupId).getInfo().getRoleInfoProto();
      } catch (IOException e) {
        continue; // removed meanwhile
      }
      if (role.getRole() != RaftPeerRole.LEADER) {
        continue;
      }
      for (ServerRpcProto follower : role.getLeaderInfo().getFollowerInfoList()) {
        final long silentMs = follower.getLastRpcElapsedTimeMs();
        if (silentMs < role.getRoleElapsedTimeMs()) {
          heard.accept(
              RaftPeerId.valueOf(follower.getId().getId()),
              nowNanos - TimeUnit.MILLISECONDS.toNanos(silentMs));
        }
      }
    }
  }

  /** Other brokers whose Raft server no probe reached for {@code raft.liveness.timeout.ms}. */
  public int unreachablePeers() {
    return liveness.unreachable().size();
  }

  /**
   * The other brokers' Raft peers that the metadata lists and a probe reached within {@code
   * raft.liveness.timeout.ms}.
   */
  public Set<RaftPeerId> reachablePeers() {
    return liveness.reachableTracked();
  }

  /**
   * Whether {@code peer} counts as reachable and was heard from at {@code atNanos}, no earlier than
   * it last became reachable ({@link PeerLiveness#reachableSince}).
   */
  public boolean heardSinceReachable(RaftPeerId peer, long atNanos) {
    return liveness.reachableSince(peer, atNanos);
  }

  /** Elections this broker started because a group's leader was unreachable (a counter). */
  public long leaderTakeovers() {
    return takeover.takeovers();
  }

  /**
   * True if this node cannot reach a majority of the voters of group {@code groupId} (as {@link
   * PeerLiveness} counts them): a leader here is then about to be replaced and must not take
   * writes.
   */
  public boolean cutOffFromMajority(RaftGroupId groupId) {
    final Set<RaftPeerId> down = liveness.unreachable();
    if (down.isEmpty()) {
      return false;
    }
    try {
      return !LeaderTakeover.majorityReachable(
          server.getDivision(groupId).getRaftConf().getCurrentPeers(), down);
    } catch (IOException e) {
      return false; // not hosted: the append fails as not the leader anyway
    }
  }

  /** The cluster metadata; available after {@link #startMetadata}. */
  public MetadataService metadata() {
    final MetadataService service = metadata;
    if (service == null) {
      throw new IllegalStateException("the metadata group has not been started on this node");
    }
    return service;
  }

  /** This broker's images of the metadata, whichever state machine feeds them now. */
  MetadataPublisher metadataImages() {
    return metadataImages;
  }

  /** Who listens to the metadata group; available after {@link #startMetadata}. */
  public MetadataListeners metadataListeners() {
    final MetadataListeners listeners = metadataListeners;
    if (listeners == null) {
      throw new IllegalStateException("the metadata group has not been started on this node");
    }
    return listeners;
  }

  /** Leader transfers and reassignments of the partitions hosted here. */
  public PartitionMembership membership() {
    return membership;
  }

  /**
   * Removes this broker's replica; with {@code deleteData} its Raft log goes too, and its partition
   * log directory is renamed aside ({@code -delete}) and deleted.
   */
  public void removePartition(PartitionId id, boolean deleteData) throws IOException {
    final PartitionStateMachine machine = machines.get(id.groupId());
    final RaftClientReply reply =
        server.groupManagement(
            GroupManagementRequest.newRemove(
                clientId, peerId, nextCallId(), id.groupId(), deleteData, false));
    if (!reply.isSuccess()) {
      throw new IOException(
          "cannot remove " + id + " from " + peerId + ": " + reply.getException());
    }
    machines.remove(id.groupId());
    replicas.remove(id);
    if (!deleteData) {
      catalog.forget(id);
      return;
    }
    if (machine != null && machine.log() != null) {
      machine.log().close(); // Ratis closed the machine already; closing again is harmless
    }
    catalog.delete(id);
  }

  /**
   * Restarts this broker's replica of a group whose Raft log failed from its durable state, as a
   * broker restart would: the division is removed (its storage kept) and added again in {@code
   * RECOVER} mode, with a new state machine: a partition's over the same partition log, the
   * metadata group's over the same {@link MetadataPublisher}.
   *
   * @return false if {@code failed} is no longer the replica's state machine: restarted already, or
   *     the replica was removed (moved away, topic deleted)
   */
  private boolean restartFromDisk(RaftGroupId groupId, StateMachine failed) throws IOException {
    final boolean hosted = hosts(groupId);
    if (groupId.equals(METADATA_GROUP)) {
      if (hosted && metadataMachine != failed) {
        return false;
      }
    } else {
      final PartitionStateMachine current = machines.get(groupId);
      if (catalog.get(groupId).isEmpty()) {
        return false; // deleted meanwhile
      }
      if (current != null && current != failed) {
        if (hosted) {
          return false; // restarted meanwhile and running
        }
        // Built by an add that then failed to start (an earlier attempt): Ratis dropped that
        // division but not its state machine, which holds the partition log open. Close it and
        // start the group again, or the replica would stay down until the broker restarts.
        machines.remove(groupId, current);
        replicas.remove(current.partition());
        current.close();
      }
    }
    if (hosted) {
      final RaftClientReply removed =
          server.groupManagement(
              GroupManagementRequest.newRemove(
                  clientId, peerId, nextCallId(), groupId, false, false));
      if (!removed.isSuccess()) {
        throw new IOException("cannot stop group " + groupId + ": " + removed.getException());
      }
      if (failed instanceof PartitionStateMachine partition) {
        machines.remove(groupId, partition);
        replicas.remove(partition.partition());
      }
    }
    // Peers from the group's own Raft log and snapshot, as Ratis restores a group at start; no
    // format: the storage holds the replica's durable state.
    final RaftClientReply added =
        server.groupManagement(
            GroupManagementRequest.newAdd(
                clientId, peerId, nextCallId(), RaftGroup.valueOf(groupId), false));
    if (!added.isSuccess()) {
      throw new IOException("cannot start group " + groupId + " again: " + added.getException());
    }
    takeover.restarted(java.util.List.of(groupId));
    return true;
  }

  /** Whether the Raft server runs a division of {@code groupId} now. */
  private boolean hosts(RaftGroupId groupId) {
    for (RaftGroupId present : server.getGroupIds()) {
      if (present.equals(groupId)) {
        return true;
      }
    }
    return false;
  }

  /** A new client of the metadata voters, or null before {@link #startMetadata}. */
  private RaftClient newMetadataClient() {
    final java.util.function.Supplier<RaftClient> clients = metadataClients;
    return clients == null ? null : clients.get();
  }

  /** Replicas restarted from disk after their Raft log failed (a counter). */
  public long raftLogRestarts() {
    return logRecovery.restarts();
  }

  /**
   * Replicas (of partitions, of the metadata group) whose Raft log failed, waiting for their
   * restart (a gauge).
   */
  public int failedRaftLogs() {
    return logRecovery.failedCount();
  }

  /**
   * Of {@link #failedRaftLogs()}, the replicas whose log failed again soon after a restart, so that
   * their next restart is backed off (a gauge).
   */
  public int backingOffRaftLogs() {
    return logRecovery.backingOffCount();
  }

  /** This broker's replica of {@code id}, if it hosts one. */
  public Optional<ReplicatedPartition> partition(PartitionId id) {
    return Optional.ofNullable(replicas.get(id));
  }

  /**
   * Leader changes seen by the partition replicas hosted here, summed; a removed replica takes its
   * count with it.
   */
  public long leaderChanges() {
    return machines.values().stream().mapToLong(PartitionStateMachine::leaderChanges).sum();
  }

  /**
   * Receives, for every append this node leads that commits, the nanoseconds from the append to its
   * commit (replicated to a majority and applied here): Raft's commit latency, which the broker
   * publishes as a histogram. Called on Ratis' threads; must be cheap and thread-safe.
   */
  public void onCommitLatency(LongConsumer listener) {
    this.commitLatency = listener;
  }

  public void recordCommitLatency(long nanos) {
    commitLatency.accept(nanos);
  }

  /** Number of partition replicas hosted (a gauge). */
  public int partitionCount() {
    return machines.size();
  }

  /** The partition replicas hosted now. */
  public Collection<ReplicatedPartition> partitions() {
    return java.util.List.copyOf(replicas.values());
  }

  private StateMachine newStateMachine(RaftGroupId groupId) {
    if (groupId.equals(METADATA_GROUP)) {
      final MetadataStateMachine machine =
          new MetadataStateMachine(
              metadataImages,
              this::newMetadataClient,
              (failed, cause) ->
                  logRecovery.logFailed(METADATA_GROUP, "The metadata group", failed, cause));
      metadataMachine = machine;
      return machine;
    }
    final PartitionId id =
        catalog
            .get(groupId)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "Raft group "
                            + groupId
                            + " has no partition.meta under "
                            + config.dataDir().resolve("log")
                            + "; its partition log is missing"));
    final Path logDir = catalog.logDir(id);
    final PartitionStateMachine machine =
        new PartitionStateMachine(
            id,
            logDir,
            () -> logConfigOf(id),
            budget,
            SystemEpochClock.INSTANCE,
            config.fsync(),
            fileSystemSync,
            config.entryMaxBatchBytes(),
            this::replicaFetcher,
            (failed, cause) -> logRecovery.logFailed(groupId, failed.partition(), failed, cause));
    machines.put(groupId, machine);
    replicas.put(id, new ReplicatedPartition(this, machine));
    return machine;
  }

  /** The broker's log settings with the partition's topic overrides, as the metadata has them. */
  private LogConfig logConfigOf(PartitionId id) {
    return metadataImages
        .image()
        .topic(id.topic())
        .filter(topic -> topic.id().equals(id.topicId()))
        .map(topic -> TopicConfigApplier.settingsOf(config.logConfig(), topic))
        .orElse(config.logConfig());
  }

  public RaftServer server() {
    return server;
  }

  public ClientId clientId() {
    return clientId;
  }

  public RaftPeerId peerId() {
    return peerId;
  }

  public long nextCallId() {
    return callIds.incrementAndGet();
  }

  @Override
  public void close() throws IOException {
    final MetadataService service = metadata;
    if (service != null) {
      service.close();
    }
    logRecovery.close();
    liveness.close();
    takeover.close();
    firstElection.close();
    fetcher.close();
    server.close();
    machines.clear();
    replicas.clear();
    closeFileSystemSync();
  }

  private void closeFileSystemSync() {
    if (fileSystemSync != null) {
      fileSystemSync.close();
    }
  }

  /**
   * Tells {@code listener} the time of each {@code syncfs} round that makes partition flushes
   * durable (see {@link FileSystemSync#onRoundTime}); never called when each flush fsyncs its own
   * files.
   */
  public void onFileSystemSyncTime(LongConsumer listener) {
    if (fileSystemSync != null) {
      fileSystemSync.onRoundTime(listener);
    }
  }

  /** Rounds of syncfs run for partition flushes; 0 when each flush fsyncs its own files. */
  public long fileSystemSyncRounds() {
    return fileSystemSync == null ? 0 : fileSystemSync.rounds();
  }

  /** Partition flushes served by syncfs rounds; 0 when each flush fsyncs its own files. */
  public long fileSystemSyncRequests() {
    return fileSystemSync == null ? 0 : fileSystemSync.requests();
  }
}
