package io.skiff.broker.net;

import io.netty.buffer.ByteBuf;
import io.skiff.broker.api.RequestContext;
import io.skiff.broker.memory.MemoryPressure;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.requests.AbstractRequest;

/**
 * A decoded request on its way to its handler. The frame holds the request's bytes (the parsed
 * request's records point into it) and is owned by whoever holds this value, until released.
 *
 * @param context the header and peer, for the handler
 * @param request the parsed request
 * @param frame the request pool buffer the request was parsed from
 * @param pending its place in the connection's response order
 * @param action what memory pressure does to it
 * @param arrivalNanos when it was decoded, {@link System#nanoTime()}
 * @param produceBytes the record bytes of a Produce request, 0 for other requests
 */
record IncomingRequest(
    RequestContext context,
    AbstractRequest request,
    ByteBuf frame,
    KafkaConnection.Pending pending,
    MemoryPressure.Action action,
    long arrivalNanos,
    long produceBytes) {

  /** The record bytes of a Produce request (0 for other requests). */
  static long produceBytes(AbstractRequest request) {
    if (!(request.data() instanceof ProduceRequestData produce)) {
      return 0;
    }
    long bytes = 0;
    for (ProduceRequestData.TopicProduceData topic : produce.topicData()) {
      for (ProduceRequestData.PartitionProduceData p : topic.partitionData()) {
        bytes += p.records() == null ? 0 : p.records().sizeInBytes();
      }
    }
    return bytes;
  }
}
