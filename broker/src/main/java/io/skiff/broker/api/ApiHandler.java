package io.skiff.broker.api;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Answers one Kafka API. Runs on a request handler thread; may complete later (a produce waiting
 * for replication, a fetch waiting for data).
 *
 * <p>Contract: the request's record buffers are valid only until {@code handle} returns, so a
 * handler must finish reading them before returning. A future completed with {@code null} sends no
 * response ({@code acks=0}). A future failed with an exception is answered with the API's error
 * response for that exception (Kafka's {@code Errors.forException}).
 */
@FunctionalInterface
public interface ApiHandler {
  CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage request);
}
