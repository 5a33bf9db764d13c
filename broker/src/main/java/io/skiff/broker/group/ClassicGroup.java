package io.skiff.broker.group;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * One classic consumer group's membership state machine (Kafka's classic rebalance protocol):
 *
 * <pre>
 *   Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
 *     ▲                  ▲    │                                        │ leader's SyncGroup
 *     └──last member ────┘    └── no member left ──▶ Empty             ▼ stored
 *        leaves/expires  ◀────── join, leave, expiry, new protocols ── Stable
 * </pre>
 *
 * Every method takes the current time, so the timers (session timeouts, rebalance timeout, {@code
 * group.initial.rebalance.delay.ms}) are driven by {@link #tick} from the coordinator's timer
 * thread, or by a test's clock. Thread-safe: every method holds this group's monitor; the futures
 * it returns are completed under it.
 */
public final class ClassicGroup {
  /** Writes a group's metadata after a rebalance; completes with the error to report, or NONE. */
  @FunctionalInterface
  public interface Store {
    CompletableFuture<Errors> store(String groupId, GroupMetadata metadata);
  }

  private final String groupId;
  private final GroupConfig config;
  private final Store store;
  private final Map<String, GroupMember> members = new LinkedHashMap<>();
  private final Map<String, Long> pendingMembers = new HashMap<>();
  private final Map<String, String> staticMembers = new HashMap<>();
  private GroupState state = GroupState.EMPTY;
  private int generation;
  private String protocolType;
  private String protocol;
  private String leaderId;
  private long rebalanceDeadline;
  private long initialDelayUntil;
  private boolean assignmentReceived;

  public ClassicGroup(String groupId, GroupConfig config, Store store) {
    this.groupId = groupId;
    this.config = config;
    this.store = store;
  }

  /** A group as it was last written to the log: Stable with its members, or Empty. */
  public static ClassicGroup restore(
      String groupId, GroupConfig config, Store store, GroupMetadata metadata, long now) {
    final ClassicGroup group = new ClassicGroup(groupId, config, store);
    group.generation = metadata.generation();
    group.protocolType = metadata.protocolType();
    group.protocol = metadata.protocol();
    group.leaderId = metadata.leader();
    for (GroupMetadata.Member m : metadata.members()) {
      final GroupMember member =
          new GroupMember(
              m.memberId(),
              m.instanceId(),
              m.clientId(),
              m.clientHost(),
              m.rebalanceTimeoutMs(),
              m.sessionTimeoutMs(),
              List.of(new JoinRequest.Protocol(metadata.protocol(), m.subscription())));
      member.assignment = m.assignment();
      member.lastHeartbeatMs = now;
      group.add(member);
    }
    group.state = group.members.isEmpty() ? GroupState.EMPTY : GroupState.STABLE;
    return group;
  }

  public String groupId() {
    return groupId;
  }

  GroupConfig config() {
    return config;
  }

  public synchronized GroupState state() {
    return state;
  }

  public synchronized int generation() {
    return generation;
  }

  public synchronized String protocolType() {
    return protocolType;
  }

  public synchronized String protocol() {
    return protocol;
  }

  public synchronized String leaderId() {
    return leaderId;
  }

  public synchronized int memberCount() {
    return members.size();
  }

  // ---- JoinGroup ----------------------------------------------------------------------------

  public synchronized CompletableFuture<JoinGroupResponseData> join(JoinRequest r, long now) {
    if (state == GroupState.DEAD) {
      return joinError(Errors.COORDINATOR_NOT_AVAILABLE, r.memberId());
    }
    if (r.sessionTimeoutMs() < config.minSessionTimeoutMs()
        || r.sessionTimeoutMs() > config.maxSessionTimeoutMs()) {
      return joinError(Errors.INVALID_SESSION_TIMEOUT, r.memberId());
    }
    if (!acceptsProtocols(r)) {
      return joinError(Errors.INCONSISTENT_GROUP_PROTOCOL, r.memberId());
    }
    return r.memberId().isEmpty() ? joinNew(r, now) : joinKnown(r, now);
  }

  private boolean acceptsProtocols(JoinRequest r) {
    if (r.protocolType() == null || r.protocolType().isEmpty() || r.protocols().isEmpty()) {
      return false;
    }
    if (members.isEmpty()) {
      return true;
    }
    if (!r.protocolType().equals(protocolType)) {
      return false;
    }
    return r.protocols().stream().anyMatch(p -> supportedByAll(p.name(), r.memberId()));
  }

  private boolean supportedByAll(String name, String except) {
    return members.values().stream().allMatch(m -> m.memberId.equals(except) || m.supports(name));
  }

  private CompletableFuture<JoinGroupResponseData> joinNew(JoinRequest r, long now) {
    if (r.instanceId() != null && staticMembers.containsKey(r.instanceId())) {
      return rejoinStatic(r, now);
    }
    final String memberId = r.clientId() + "-" + UUID.randomUUID();
    if (r.instanceId() == null && r.requireKnownMemberId()) {
      pendingMembers.put(memberId, now + r.sessionTimeoutMs());
      return joinError(Errors.MEMBER_ID_REQUIRED, memberId);
    }
    return addAndRebalance(memberId, r, now);
  }

  private CompletableFuture<JoinGroupResponseData> joinKnown(JoinRequest r, long now) {
    if (pendingMembers.remove(r.memberId()) != null) {
      return addAndRebalance(r.memberId(), r, now);
    }
    final Errors invalid = validateMember(r.memberId(), r.instanceId());
    if (invalid != Errors.NONE) {
      return joinError(invalid, r.memberId());
    }
    final GroupMember member = members.get(r.memberId());
    final CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
    switch (state) {
      case PREPARING_REBALANCE -> {
        update(member, r, future, now);
        maybeCompleteJoin(now);
      }
      case COMPLETING_REBALANCE, STABLE -> {
        final boolean unchanged = member.sameProtocols(r.protocols());
        final boolean stableFollower =
            state == GroupState.STABLE && !member.memberId.equals(leaderId);
        if (unchanged && (state == GroupState.COMPLETING_REBALANCE || stableFollower)) {
          member.lastHeartbeatMs = now;
          future.complete(joinResponse(member));
        } else {
          update(member, r, future, now);
          prepareRebalance(now);
        }
      }
      default -> future.complete(joinErrorResponse(Errors.UNKNOWN_MEMBER_ID, r.memberId()));
    }
    return future;
  }

  /** A static member restarted: it takes over its old slot under a new member id. */
  private CompletableFuture<JoinGroupResponseData> rejoinStatic(JoinRequest r, long now) {
    final GroupMember member = members.get(staticMembers.get(r.instanceId()));
    final String oldId = member.memberId;
    fence(member);
    members.remove(oldId);
    member.memberId = r.clientId() + "-" + UUID.randomUUID();
    members.put(member.memberId, member);
    staticMembers.put(r.instanceId(), member.memberId);
    if (oldId.equals(leaderId)) {
      leaderId = member.memberId;
    }
    final CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
    if (state == GroupState.STABLE
        && member.sameProtocols(r.protocols())
        && !member.memberId.equals(leaderId)) {
      member.lastHeartbeatMs = now;
      future.complete(joinResponse(member));
      return future;
    }
    update(member, r, future, now);
    if (state == GroupState.PREPARING_REBALANCE) {
      maybeCompleteJoin(now);
    } else {
      prepareRebalance(now);
    }
    return future;
  }

  private void fence(GroupMember member) {
    if (member.joinFuture != null) {
      member.joinFuture.complete(joinErrorResponse(Errors.FENCED_INSTANCE_ID, member.memberId));
      member.joinFuture = null;
    }
    if (member.syncFuture != null) {
      member.syncFuture.complete(syncError(Errors.FENCED_INSTANCE_ID));
      member.syncFuture = null;
    }
  }

  private CompletableFuture<JoinGroupResponseData> addAndRebalance(
      String memberId, JoinRequest r, long now) {
    final GroupMember member =
        new GroupMember(
            memberId,
            r.instanceId(),
            r.clientId(),
            r.clientHost(),
            r.rebalanceTimeoutMs() > 0 ? r.rebalanceTimeoutMs() : r.sessionTimeoutMs(),
            r.sessionTimeoutMs(),
            r.protocols());
    final CompletableFuture<JoinGroupResponseData> future = new CompletableFuture<>();
    member.joinFuture = future;
    member.lastHeartbeatMs = now;
    if (members.isEmpty()) {
      protocolType = r.protocolType();
    }
    add(member);
    if (state == GroupState.PREPARING_REBALANCE) {
      maybeCompleteJoin(now);
    } else {
      prepareRebalance(now);
    }
    return future;
  }

  private void add(GroupMember member) {
    members.put(member.memberId, member);
    if (member.instanceId != null) {
      staticMembers.put(member.instanceId, member.memberId);
    }
    if (leaderId == null) {
      leaderId = member.memberId;
    }
  }

  private static void update(
      GroupMember member,
      JoinRequest r,
      CompletableFuture<JoinGroupResponseData> future,
      long now) {
    member.protocols = r.protocols();
    member.sessionTimeoutMs = r.sessionTimeoutMs();
    if (r.rebalanceTimeoutMs() > 0) {
      member.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
    }
    if (member.joinFuture != null && member.joinFuture != future) {
      member.joinFuture.complete(joinErrorResponse(Errors.UNKNOWN_MEMBER_ID, member.memberId));
    }
    member.joinFuture = future;
    member.lastHeartbeatMs = now;
  }

  // ---- rebalance ----------------------------------------------------------------------------

  private void prepareRebalance(long now) {
    if (state == GroupState.COMPLETING_REBALANCE) {
      for (GroupMember m : members.values()) {
        m.assignment = new byte[0];
        if (m.syncFuture != null) {
          m.syncFuture.complete(syncError(Errors.REBALANCE_IN_PROGRESS));
          m.syncFuture = null;
        }
      }
    }
    final boolean fromEmpty = state == GroupState.EMPTY;
    state = GroupState.PREPARING_REBALANCE;
    assignmentReceived = false;
    if (fromEmpty && config.initialRebalanceDelayMs() > 0) {
      initialDelayUntil = now + config.initialRebalanceDelayMs();
      rebalanceDeadline = Math.max(initialDelayUntil, now + maxRebalanceTimeout());
    } else {
      initialDelayUntil = 0;
      rebalanceDeadline = now + maxRebalanceTimeout();
    }
    maybeCompleteJoin(now);
  }

  private int maxRebalanceTimeout() {
    return members.values().stream().mapToInt(m -> m.rebalanceTimeoutMs).max().orElse(0);
  }

  private void maybeCompleteJoin(long now) {
    if (state == GroupState.PREPARING_REBALANCE
        && now >= initialDelayUntil
        && pendingMembers.isEmpty()
        && members.values().stream().allMatch(GroupMember::awaitingJoin)) {
      completeJoin(now);
    }
  }

  private void completeJoin(long now) {
    for (GroupMember m : List.copyOf(members.values())) {
      if (!m.awaitingJoin()) {
        remove(m);
      }
    }
    generation++;
    if (members.isEmpty()) {
      state = GroupState.EMPTY;
      protocol = null;
      leaderId = null;
      store.store(groupId, metadata());
      return;
    }
    protocol = selectProtocol();
    state = GroupState.COMPLETING_REBALANCE;
    rebalanceDeadline = now + maxRebalanceTimeout();
    for (GroupMember m : members.values()) {
      m.lastHeartbeatMs = now;
      final CompletableFuture<JoinGroupResponseData> future = m.joinFuture;
      m.joinFuture = null;
      future.complete(joinResponse(m));
    }
  }

  /** Each member votes for its most preferred protocol that every member supports. */
  private String selectProtocol() {
    final Map<String, Integer> votes = new LinkedHashMap<>();
    for (GroupMember m : members.values()) {
      for (JoinRequest.Protocol p : m.protocols) {
        if (supportedByAll(p.name(), null)) {
          votes.merge(p.name(), 1, Integer::sum);
          break;
        }
      }
    }
    return votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
  }

  private JoinGroupResponseData joinResponse(GroupMember member) {
    final JoinGroupResponseData r =
        new JoinGroupResponseData()
            .setGenerationId(generation)
            .setProtocolType(protocolType)
            .setProtocolName(protocol)
            .setLeader(leaderId)
            .setMemberId(member.memberId);
    if (member.memberId.equals(leaderId)) {
      for (GroupMember m : members.values()) {
        r.members()
            .add(
                new JoinGroupResponseData.JoinGroupResponseMember()
                    .setMemberId(m.memberId)
                    .setGroupInstanceId(m.instanceId)
                    .setMetadata(m.metadata(protocol)));
      }
    }
    return r;
  }

  private static CompletableFuture<JoinGroupResponseData> joinError(Errors error, String member) {
    return CompletableFuture.completedFuture(joinErrorResponse(error, member));
  }

  static JoinGroupResponseData joinErrorResponse(Errors error, String memberId) {
    return new JoinGroupResponseData()
        .setErrorCode(error.code())
        .setGenerationId(-1)
        .setMemberId(memberId == null ? "" : memberId)
        .setLeader("");
  }

  // ---- SyncGroup ----------------------------------------------------------------------------

  public synchronized CompletableFuture<SyncGroupResponseData> sync(
      String memberId,
      String instanceId,
      int generationId,
      Map<String, byte[]> assignments,
      long now) {
    if (state == GroupState.DEAD) {
      return CompletableFuture.completedFuture(syncError(Errors.COORDINATOR_NOT_AVAILABLE));
    }
    final Errors invalid = validateMember(memberId, instanceId);
    if (invalid != Errors.NONE) {
      return CompletableFuture.completedFuture(syncError(invalid));
    }
    if (generationId != generation) {
      return CompletableFuture.completedFuture(syncError(Errors.ILLEGAL_GENERATION));
    }
    final GroupMember member = members.get(memberId);
    member.lastHeartbeatMs = now;
    return switch (state) {
      case PREPARING_REBALANCE ->
          CompletableFuture.completedFuture(syncError(Errors.REBALANCE_IN_PROGRESS));
      case STABLE -> CompletableFuture.completedFuture(syncResponse(member));
      case COMPLETING_REBALANCE -> awaitAssignment(member, assignments, now);
      default -> CompletableFuture.completedFuture(syncError(Errors.UNKNOWN_MEMBER_ID));
    };
  }

  private CompletableFuture<SyncGroupResponseData> awaitAssignment(
      GroupMember member, Map<String, byte[]> assignments, long now) {
    final CompletableFuture<SyncGroupResponseData> future = new CompletableFuture<>();
    if (member.syncFuture != null) {
      member.syncFuture.complete(syncError(Errors.REBALANCE_IN_PROGRESS));
    }
    member.syncFuture = future;
    if (member.memberId.equals(leaderId) && !assignmentReceived) {
      assignmentReceived = true;
      for (GroupMember m : members.values()) {
        m.assignment = assignments.getOrDefault(m.memberId, new byte[0]);
      }
      final int storedGeneration = generation;
      store
          .store(groupId, metadata())
          .whenComplete((error, failure) -> stored(storedGeneration, now, error, failure));
    }
    return future;
  }

  /**
   * Hands out the stored assignment. Like Kafka, every member's session restarts when the
   * assignment reaches it ({@code assignedAt}, the leader's SyncGroup): a follower that synced
   * early and waited for the leader has a full session timeout from there, not from its own call.
   */
  private synchronized void stored(
      int storedGeneration, long assignedAt, Errors error, Throwable failure) {
    if (state != GroupState.COMPLETING_REBALANCE || generation != storedGeneration) {
      return;
    }
    final Errors result = failure != null ? Errors.COORDINATOR_NOT_AVAILABLE : error;
    if (result != Errors.NONE) {
      for (GroupMember m : members.values()) {
        if (m.syncFuture != null) {
          m.syncFuture.complete(syncError(result));
          m.syncFuture = null;
        }
      }
      prepareRebalance(System.currentTimeMillis());
      return;
    }
    state = GroupState.STABLE;
    for (GroupMember m : members.values()) {
      m.lastHeartbeatMs = Math.max(m.lastHeartbeatMs, assignedAt);
      if (m.syncFuture != null) {
        m.syncFuture.complete(syncResponse(m));
        m.syncFuture = null;
      }
    }
  }

  private SyncGroupResponseData syncResponse(GroupMember member) {
    return new SyncGroupResponseData()
        .setProtocolType(protocolType)
        .setProtocolName(protocol)
        .setAssignment(member.assignment);
  }

  static SyncGroupResponseData syncError(Errors error) {
    return new SyncGroupResponseData().setErrorCode(error.code()).setAssignment(new byte[0]);
  }

  // ---- Heartbeat, LeaveGroup, expiry ----------------------------------------------------------

  public synchronized Errors heartbeat(
      String memberId, String instanceId, int generationId, long now) {
    if (state == GroupState.DEAD) {
      return Errors.COORDINATOR_NOT_AVAILABLE;
    }
    final Errors invalid = validateMember(memberId, instanceId);
    if (invalid != Errors.NONE) {
      return invalid;
    }
    if (generationId != generation) {
      return Errors.ILLEGAL_GENERATION;
    }
    members.get(memberId).lastHeartbeatMs = now;
    return state == GroupState.PREPARING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
  }

  /** LeaveGroup for one member, named by member id or (static members) by instance id. */
  public synchronized Errors leave(String memberId, String instanceId, long now) {
    if (state == GroupState.DEAD) {
      return Errors.COORDINATOR_NOT_AVAILABLE;
    }
    String id = memberId;
    if ((id == null || id.isEmpty()) && instanceId != null) {
      id = staticMembers.getOrDefault(instanceId, "");
    }
    if (pendingMembers.remove(id) != null) {
      maybeCompleteJoin(now);
      return Errors.NONE;
    }
    final Errors invalid = validateMember(id, instanceId);
    if (invalid != Errors.NONE) {
      return invalid;
    }
    removeAndRebalance(members.get(id), now);
    return Errors.NONE;
  }

  private void removeAndRebalance(GroupMember member, long now) {
    remove(member);
    if (state == GroupState.STABLE || state == GroupState.COMPLETING_REBALANCE) {
      prepareRebalance(now);
    } else {
      maybeCompleteJoin(now);
    }
  }

  private void remove(GroupMember member) {
    if (member.joinFuture != null) {
      member.joinFuture.complete(joinErrorResponse(Errors.UNKNOWN_MEMBER_ID, member.memberId));
      member.joinFuture = null;
    }
    if (member.syncFuture != null) {
      member.syncFuture.complete(syncError(Errors.UNKNOWN_MEMBER_ID));
      member.syncFuture = null;
    }
    members.remove(member.memberId);
    if (member.instanceId != null) {
      staticMembers.remove(member.instanceId, member.memberId);
    }
    if (member.memberId.equals(leaderId)) {
      leaderId = members.isEmpty() ? null : members.keySet().iterator().next();
    }
  }

  /**
   * Expires members whose session timed out and completes rebalances whose timeout passed. The
   * coordinator's timer thread calls it about every 100 ms.
   */
  public synchronized void tick(long now) {
    if (state == GroupState.DEAD) {
      return;
    }
    pendingMembers.values().removeIf(deadline -> now >= deadline);
    for (GroupMember m : List.copyOf(members.values())) {
      final boolean waiting = m.joinFuture != null || m.syncFuture != null;
      if (!waiting && now - m.lastHeartbeatMs > m.sessionTimeoutMs) {
        removeAndRebalance(m, now);
      }
    }
    if (state == GroupState.PREPARING_REBALANCE && now >= rebalanceDeadline) {
      completeJoin(now);
    } else if (state == GroupState.COMPLETING_REBALANCE && now >= rebalanceDeadline) {
      for (GroupMember m : List.copyOf(members.values())) {
        if (m.syncFuture == null) {
          remove(m); // joined but never synced within the rebalance timeout
        }
      }
      prepareRebalance(now);
    } else {
      maybeCompleteJoin(now);
    }
  }

  // ---- offsets, admin ------------------------------------------------------------------------

  /**
   * Whether a member may commit offsets: anyone with generation -1 while the group is Empty (an
   * admin or a consumer using {@code assign}), else a member of the current generation outside
   * CompletingRebalance.
   */
  public synchronized Errors validateCommit(String memberId, String instanceId, int generationId) {
    if (state == GroupState.DEAD) {
      return Errors.COORDINATOR_NOT_AVAILABLE;
    }
    if (generationId < 0 && state == GroupState.EMPTY) {
      return Errors.NONE;
    }
    final Errors invalid = validateMember(memberId, instanceId);
    if (invalid != Errors.NONE) {
      return invalid;
    }
    if (generationId != generation) {
      return Errors.ILLEGAL_GENERATION;
    }
    return state == GroupState.COMPLETING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
  }

  private Errors validateMember(String memberId, String instanceId) {
    if (instanceId != null) {
      final String current = staticMembers.get(instanceId);
      if (current != null && !current.equals(memberId)) {
        return Errors.FENCED_INSTANCE_ID;
      }
    }
    return members.containsKey(memberId) ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
  }

  /** The group as it is written to the log. */
  public synchronized GroupMetadata metadata() {
    final List<GroupMetadata.Member> list = new ArrayList<>();
    for (GroupMember m : members.values()) {
      list.add(
          new GroupMetadata.Member(
              m.memberId,
              m.instanceId,
              m.clientId,
              m.clientHost,
              m.rebalanceTimeoutMs,
              m.sessionTimeoutMs,
              protocol == null ? new byte[0] : m.metadata(protocol),
              m.assignment));
    }
    return new GroupMetadata(protocolType, generation, protocol, leaderId, List.copyOf(list));
  }

  /** The members' subscription metadata in the selected protocol (for OffsetDelete). */
  public synchronized List<byte[]> subscriptions() {
    final List<byte[]> result = new ArrayList<>();
    if (protocol != null) {
      members.values().forEach(m -> result.add(m.metadata(protocol)));
    }
    return result;
  }

  /** Marks the group deleted or unloaded: waiting members are told to find the coordinator. */
  public synchronized void markDead(Errors reason) {
    for (GroupMember m : members.values()) {
      if (m.joinFuture != null) {
        m.joinFuture.complete(joinErrorResponse(reason, m.memberId));
        m.joinFuture = null;
      }
      if (m.syncFuture != null) {
        m.syncFuture.complete(syncError(reason));
        m.syncFuture = null;
      }
    }
    state = GroupState.DEAD;
  }

  synchronized Set<String> memberIds() {
    return Set.copyOf(members.keySet());
  }
}
