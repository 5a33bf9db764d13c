package io.skiff.broker.api;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * InitProducerId for idempotent producers: a new producer id at epoch 0 from this broker's {@link
 * ProducerIdBlock}. A request that names its current producer id and epoch (v3+, a producer bumping
 * its epoch after a sequence error) also gets a new id at epoch 0, as Kafka answers producers
 * without a transactional id. Transactions are not supported: a request with a {@code
 * transactional.id} is answered {@code UNSUPPORTED_VERSION}, which the client reports as a fatal
 * error from {@code initTransactions()}, and the broker logs why. Thread-safe.
 */
public final class InitProducerIdHandler implements ApiHandler {
  private static final Logger LOG = LoggerFactory.getLogger(InitProducerIdHandler.class);

  private final ProducerIdBlock producerIds;

  public InitProducerIdHandler(ProducerIdBlock producerIds) {
    this.producerIds = producerIds;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage message) {
    final InitProducerIdRequestData request = (InitProducerIdRequestData) message;
    if (request.transactionalId() != null && !request.transactionalId().isEmpty()) {
      LOG.warn(
          "Refused InitProducerId for transactional.id '{}' from {}: transactions are not"
              + " supported; unset transactional.id to use the idempotent producer",
          request.transactionalId(),
          context.clientAddress());
      return CompletableFuture.completedFuture(failed(Errors.UNSUPPORTED_VERSION));
    }
    return producerIds
        .nextId()
        .<ApiMessage>thenApply(
            id -> new InitProducerIdResponseData().setProducerId(id).setProducerEpoch((short) 0))
        .exceptionally(error -> failed(retriable(KafkaErrors.of(error))));
  }

  /** The metadata group not answering is transient: the producer retries. */
  private static Errors retriable(Errors error) {
    return error == Errors.UNKNOWN_SERVER_ERROR || error == Errors.REQUEST_TIMED_OUT
        ? Errors.COORDINATOR_NOT_AVAILABLE
        : error;
  }

  private static InitProducerIdResponseData failed(Errors error) {
    return new InitProducerIdResponseData()
        .setErrorCode(error.code())
        .setProducerId(-1)
        .setProducerEpoch((short) -1);
  }
}
