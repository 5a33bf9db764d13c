package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.broker.group.GroupMetadata;
import io.skiff.broker.group.GroupState;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeGroups: state, protocol and members of each group; member metadata and assignments only
 * while Stable, as Kafka. An unknown group is Dead (v6+: GROUP_ID_NOT_FOUND). Authorized operations
 * are not computed (there are no ACLs).
 */
public final class DescribeGroupsHandler implements ApiHandler {
  private final GroupCoordinator coordinator;

  public DescribeGroupsHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final DescribeGroupsRequestData request = (DescribeGroupsRequestData) message;
    final DescribeGroupsResponseData response = new DescribeGroupsResponseData();
    for (String groupId : request.groups()) {
      response.groups().add(describe(groupId, context.version()));
    }
    return CompletableFuture.completedFuture(response);
  }

  private DescribedGroup describe(String groupId, short version) {
    final GroupCoordinator.Described d = coordinator.describe(groupId);
    final DescribedGroup group =
        new DescribedGroup()
            .setGroupId(groupId)
            .setGroupState(d.state().kafkaName())
            .setProtocolType("")
            .setProtocolData("");
    Errors error = d.error();
    if (error == Errors.NONE && d.metadata() == null && version >= 6) {
      error = Errors.GROUP_ID_NOT_FOUND;
    }
    group.setErrorCode(error.code());
    if (version >= 6 && error != Errors.NONE) {
      group.setErrorMessage("group '" + groupId + "': " + error.message());
    }
    final GroupMetadata meta = d.metadata();
    if (error != Errors.NONE || meta == null) {
      return group;
    }
    group.setProtocolType(meta.protocolType() == null ? "" : meta.protocolType());
    group.setProtocolData(meta.protocol() == null ? "" : meta.protocol());
    final boolean stable = d.state() == GroupState.STABLE;
    for (GroupMetadata.Member m : meta.members()) {
      group
          .members()
          .add(
              new DescribedGroupMember()
                  .setMemberId(m.memberId())
                  .setGroupInstanceId(m.instanceId())
                  .setClientId(m.clientId())
                  .setClientHost(m.clientHost())
                  .setMemberMetadata(stable ? m.subscription() : new byte[0])
                  .setMemberAssignment(stable ? m.assignment() : new byte[0]));
    }
    return group;
  }
}
