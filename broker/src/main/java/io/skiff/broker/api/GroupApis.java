package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * Registers the consumer group APIs (classic protocol) with the versions their handlers answer.
 * OffsetCommit and OffsetFetch stop at v9: v10 names topics by id only.
 */
public final class GroupApis {
  private GroupApis() {}

  public static void register(
      ApiRegistry registry, ClusterView cluster, GroupCoordinator coordinator) {
    registry
        .register(ApiKeys.FIND_COORDINATOR, 0, new FindCoordinatorHandler(cluster, coordinator))
        .register(ApiKeys.JOIN_GROUP, 2, new JoinGroupHandler(coordinator))
        .register(ApiKeys.SYNC_GROUP, 0, new SyncGroupHandler(coordinator))
        .register(ApiKeys.HEARTBEAT, 0, new HeartbeatHandler(coordinator))
        .register(ApiKeys.LEAVE_GROUP, 0, new LeaveGroupHandler(coordinator))
        .register(ApiKeys.OFFSET_COMMIT, 2, 9, new OffsetCommitHandler(cluster, coordinator))
        .register(ApiKeys.OFFSET_FETCH, 1, 9, new OffsetFetchHandler(coordinator))
        .register(ApiKeys.LIST_GROUPS, 0, new ListGroupsHandler(coordinator))
        .register(ApiKeys.DESCRIBE_GROUPS, 0, new DescribeGroupsHandler(coordinator))
        .register(ApiKeys.DELETE_GROUPS, 0, new DeleteGroupsHandler(coordinator))
        .register(ApiKeys.OFFSET_DELETE, 0, new OffsetDeleteHandler(coordinator));
  }
}
