package io.skiff.broker.memory;

import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;

/**
 * Applies {@link MemoryPressure}'s actions on the request path, around the API handlers rather than
 * inside them: the Kafka listener calls {@link #admit} for every decoded request, answers {@link
 * #rejection} instead of calling the handler when the action says reject, {@link #stamp}s the
 * handler's response, and pauses reading the connection for the action's throttle after writing it.
 *
 * <pre>
 *   Action a = backpressure.admit(request);          // may shrink a Fetch's sizes in place
 *   ApiMessage response = a.reject()
 *       ? backpressure.rejection(request)            // retriable REQUEST_TIMED_OUT
 *       : handler.handle(context, request.data()).join();
 *   backpressure.stamp(response, a);                 // throttle_time_ms of Produce/Fetch
 * </pre>
 *
 * <p>Rejections use REQUEST_TIMED_OUT: every Kafka client retries it (Java, librdkafka, kafkajs),
 * and the error message says the cause. Thread-safety: stateless besides the pressure; any thread.
 */
public final class RequestBackpressure {
  private final MemoryPressure pressure;

  public RequestBackpressure(MemoryPressure pressure) {
    this.pressure = pressure;
  }

  public MemoryPressure pressure() {
    return pressure;
  }

  /** The action for {@code request} now; a Fetch's byte limits are scaled by it here. */
  public MemoryPressure.Action admit(AbstractRequest request) {
    final MemoryPressure.Action action = pressure.actionFor(request.apiKey());
    if (action.fetchSizeFactor() < 1.0 && request.data() instanceof FetchRequestData fetch) {
      fetch.setMaxBytes(scaled(fetch.maxBytes(), action.fetchSizeFactor()));
      for (FetchRequestData.FetchTopic topic : fetch.topics()) {
        for (FetchRequestData.FetchPartition p : topic.partitions()) {
          p.setPartitionMaxBytes(scaled(p.partitionMaxBytes(), action.fetchSizeFactor()));
        }
      }
    }
    return action;
  }

  private static int scaled(int bytes, double factor) {
    return Math.max(1, (int) (bytes * factor));
  }

  /** The retriable error answer to a rejected request, or null when it gets none (acks=0). */
  public ApiMessage rejection(AbstractRequest request) {
    final AbstractResponse response =
        request.getErrorResponse(
            0,
            new TimeoutException(
                "broker memory pressure is "
                    + pressure.level()
                    + "; produce requests are refused until memory is freed, retry later"));
    return response == null ? null : response.data();
  }

  /** Writes the action's throttle into a Produce or Fetch response (both carry it in v1+). */
  public void stamp(ApiMessage response, MemoryPressure.Action action) {
    if (action.throttleMs() <= 0) {
      return;
    }
    if (response instanceof ProduceResponseData produce) {
      produce.setThrottleTimeMs(Math.max(produce.throttleTimeMs(), action.throttleMs()));
    } else if (response instanceof FetchResponseData fetch) {
      fetch.setThrottleTimeMs(Math.max(fetch.throttleTimeMs(), action.throttleMs()));
    }
  }
}
