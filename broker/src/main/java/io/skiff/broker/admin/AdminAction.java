package io.skiff.broker.admin;

import java.util.concurrent.CompletableFuture;

/**
 * A {@code POST} endpoint of the admin server under a path prefix, for operations Kafka's Admin API
 * has no verb for (broker maintenance, decommission). It completes with the JSON body of a {@code
 * 200} response, or fails with an {@link AdminActionException} that carries the HTTP status and a
 * message for the operator (any other failure answers {@code 500}).
 *
 * <p>Implementations must be thread-safe and must not block: they are called on the admin event
 * loop.
 */
@FunctionalInterface
public interface AdminAction {
  /**
   * @param subPath the path after the registered prefix, e.g. {@code 3/maintenance} under {@code
   *     /v1/brokers/}
   */
  CompletableFuture<String> post(String subPath);
}
