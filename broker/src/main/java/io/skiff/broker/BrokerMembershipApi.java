package io.skiff.broker;

import io.skiff.broker.admin.AdminActionException;
import io.skiff.broker.admin.AdminHttpServer;
import io.skiff.broker.admin.JsonString;
import io.skiff.raft.metadata.BrokerInfo;
import io.skiff.raft.metadata.BrokerState;
import io.skiff.raft.metadata.DrainPlanner;
import io.skiff.raft.metadata.MetadataException;
import io.skiff.raft.metadata.MetadataImage;
import io.skiff.raft.metadata.MetadataListeners;
import io.skiff.raft.metadata.MetadataService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * The admin HTTP API of broker membership, which Kafka's Admin API has no verb for:
 *
 * <pre>
 *   GET  /v1/brokers                          [{"id":1,"host":…,"port":…,"rack":…,"state":"active",
 *                                               "replicas":N}, …]
 *   POST /v1/brokers/{id}/maintenance/on      maintenance: leaderships move away, replicas stay
 *   POST /v1/brokers/{id}/maintenance/off     back to active; preferred leaderships return
 *   POST /v1/brokers/{id}/decommission        draining: every replica moves off, then decommissioned
 *   POST /v1/brokers/{id}/recommission        back to active; stops the drain
 *   POST /v1/brokers/{id}/unregister          a decommissioned broker leaves the metadata group's
 *                                             listeners: {"id":N,"removed":true|false}
 * </pre>
 *
 * <p>Each POST answers, once the metadata change is committed, with the broker's entry as {@code
 * GET /v1/brokers} shows it; a refusal answers 404 (unknown broker), 409 (the state or the
 * cluster's capacity does not allow it) or 400 (unknown action), with {@code {"error": "…"}}. Any
 * broker serves any broker's state. {@code unregister} is refused (409) unless the broker is
 * decommissioned and not a metadata voter; it runs on {@code executor}, as it waits for the
 * metadata group's configuration change. A broker that starts again later rejoins as a listener (it
 * stays decommissioned). Thread-safe: stateless over the {@link MetadataService}.
 */
final class BrokerMembershipApi {
  static final String BROKERS = "/v1/brokers";

  private static final java.time.Duration UNREGISTER_TIMEOUT = java.time.Duration.ofSeconds(60);

  private final MetadataService metadata;
  private final MetadataListeners listeners;
  private final Executor executor;

  BrokerMembershipApi(MetadataService metadata, MetadataListeners listeners, Executor executor) {
    this.metadata = metadata;
    this.listeners = listeners;
    this.executor = executor;
  }

  void register(AdminHttpServer admin) {
    admin.registerJson(BROKERS, () -> brokersJson(metadata.image()));
    admin.registerAction(BROKERS + "/", this::post);
  }

  static String brokersJson(MetadataImage image) {
    final StringBuilder json = new StringBuilder("[");
    for (BrokerInfo b : image.brokers().values()) {
      if (json.length() > 1) {
        json.append(',');
      }
      json.append(brokerJson(image, b));
    }
    return json.append(']').toString();
  }

  private static String brokerJson(MetadataImage image, BrokerInfo b) {
    return "{\"id\":"
        + b.nodeId()
        + ",\"host\":"
        + JsonString.quote(b.host())
        + ",\"port\":"
        + b.kafkaPort()
        + ",\"rack\":"
        + JsonString.quote(b.rack())
        + ",\"state\":"
        + JsonString.quote(b.state().label())
        + ",\"replicas\":"
        + DrainPlanner.partitionsOn(image, b.nodeId())
        + "}";
  }

  private CompletableFuture<String> post(String subPath) {
    final String[] parts = subPath.split("/", 2);
    final int nodeId;
    try {
      nodeId = Integer.parseInt(parts[0]);
    } catch (NumberFormatException e) {
      throw new AdminActionException(400, "'" + parts[0] + "' is not a broker id");
    }
    if (parts.length > 1 && parts[1].equals("unregister")) {
      return unregister(nodeId);
    }
    final BrokerState state = stateFor(parts.length > 1 ? parts[1] : "");
    return metadata
        .setBrokerState(nodeId, state)
        .handle(
            (ok, error) -> {
              if (error != null) {
                throw refusal(error);
              }
              final MetadataImage image = metadata.image();
              return brokerJson(image, image.broker(nodeId).orElseThrow());
            });
  }

  private CompletableFuture<String> unregister(int nodeId) {
    final BrokerInfo broker = metadata.image().broker(nodeId).orElse(null);
    if (broker != null && broker.state() != BrokerState.DECOMMISSIONED) {
      throw new AdminActionException(
          409,
          "broker "
              + nodeId
              + " is "
              + broker.state().label()
              + "; decommission it first (skiff broker decommission "
              + nodeId
              + " --wait)");
    }
    if (listeners.isVoter(nodeId)) {
      throw new AdminActionException(
          409, "broker " + nodeId + " is a metadata voter (metadata.voters); voters stay");
    }
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            final boolean removed = listeners.remove(nodeId, UNREGISTER_TIMEOUT);
            return "{\"id\":" + nodeId + ",\"removed\":" + removed + "}";
          } catch (java.io.IOException e) {
            throw new CompletionException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
          }
        },
        executor);
  }

  private static BrokerState stateFor(String action) {
    return switch (action) {
      case "maintenance/on" -> BrokerState.MAINTENANCE;
      case "maintenance/off", "recommission" -> BrokerState.ACTIVE;
      case "decommission" -> BrokerState.DRAINING;
      default ->
          throw new AdminActionException(
              400,
              "unknown broker action '"
                  + action
                  + "'; use maintenance/on, maintenance/off, decommission, recommission or"
                  + " unregister");
    };
  }

  private static RuntimeException refusal(Throwable error) {
    final Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof MetadataException refused) {
      final int status = refused.error() == MetadataException.Error.UNKNOWN_BROKER ? 404 : 409;
      return new AdminActionException(status, refused.getMessage());
    }
    return cause instanceof RuntimeException r ? r : new CompletionException(cause);
  }
}
