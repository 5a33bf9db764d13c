package io.skiff.broker.api;

import io.skiff.broker.group.GroupCoordinator;
import io.skiff.broker.group.GroupState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ListGroups: the groups this broker coordinates (clients ask every broker), filtered by state
 * (v4+, case-insensitive) and type (v5+; every group here is {@code classic}).
 */
public final class ListGroupsHandler implements ApiHandler {
  private static final String CLASSIC = "classic";
  private final GroupCoordinator coordinator;

  public ListGroupsHandler(GroupCoordinator coordinator) {
    this.coordinator = coordinator;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final ListGroupsRequestData request = (ListGroupsRequestData) message;
    final Map.Entry<Errors, List<GroupCoordinator.Listed>> listed = coordinator.listGroups();
    final ListGroupsResponseData response =
        new ListGroupsResponseData().setErrorCode(listed.getKey().code());
    final boolean typeMatches =
        request.typesFilter().isEmpty()
            || request.typesFilter().stream().anyMatch(CLASSIC::equalsIgnoreCase);
    for (GroupCoordinator.Listed g : listed.getValue()) {
      if (typeMatches && stateMatches(request, g.state())) {
        response
            .groups()
            .add(
                new ListGroupsResponseData.ListedGroup()
                    .setGroupId(g.groupId())
                    .setProtocolType(g.protocolType() == null ? "" : g.protocolType())
                    .setGroupState(g.state().kafkaName())
                    .setGroupType(CLASSIC));
      }
    }
    return CompletableFuture.completedFuture(response);
  }

  private static boolean stateMatches(ListGroupsRequestData request, GroupState state) {
    return request.statesFilter().isEmpty()
        || request.statesFilter().stream().anyMatch(s -> s.equalsIgnoreCase(state.kafkaName()));
  }
}
