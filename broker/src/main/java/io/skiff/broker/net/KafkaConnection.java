package io.skiff.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.skiff.broker.api.ApiRegistry;
import io.skiff.broker.api.KafkaErrors;
import io.skiff.broker.api.RequestContext;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: turns length-delimited frames into Kafka requests, hands them to their
 * {@link io.skiff.broker.api.ApiHandler} on the request executor (handlers start one at a time, in
 * request order: see {@link SerialExecutor}), and writes the responses back in request order,
 * however out of order they complete.
 *
 * <p>Example: a client pipelines Produce (acks=all, completes in 5 ms) then Metadata (completes at
 * once); the Metadata response waits in the queue until the Produce response is written.
 *
 * <p>Frames it cannot parse, unknown API keys and unsupported versions close the connection with a
 * logged reason (an ApiVersions request of a newer version gets Kafka's UNSUPPORTED_VERSION answer
 * instead, so clients can downgrade). Nothing a client sends can escape this handler.
 *
 * <p>Thread-safety: Netty calls it on the channel's event loop; completions from other threads are
 * handed back to that loop, so the response queue is only touched there. Each request frame is
 * released once its handler has returned.
 */
final class KafkaConnection extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaConnection.class);
  private static final int MAX_IN_FLIGHT = 64;

  private final ApiRegistry registry;
  private final SerialExecutor inOrder;
  private final NetworkMetrics metrics;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private ChannelHandlerContext ctx;

  /** A request awaiting its turn to be answered. */
  private static final class Pending {
    final int correlationId;
    final short version;
    final short headerVersion;
    final ApiKeys key;
    boolean done;
    ApiMessage response; // null with done = no response

    Pending(int correlationId, ApiKeys key, short version, short headerVersion) {
      this.correlationId = correlationId;
      this.key = key;
      this.version = version;
      this.headerVersion = headerVersion;
    }
  }

  KafkaConnection(ApiRegistry registry, Executor requestExecutor, NetworkMetrics metrics) {
    this.registry = registry;
    this.inOrder = new SerialExecutor(requestExecutor);
    this.metrics = metrics;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    metrics.connectionOpened();
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    metrics.connectionClosed();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    final ByteBuf frame = (ByteBuf) msg;
    final ByteBuffer buffer = frame.nioBuffer();
    final AbstractRequest request;
    final RequestHeader header;
    try {
      if (buffer.remaining() < 8) {
        throw new IllegalArgumentException(
            "frame of " + buffer.remaining() + " bytes has no header");
      }
      final short keyId = buffer.getShort(0);
      final short version = buffer.getShort(2);
      if (!ApiKeys.hasId(keyId) || registry.get(ApiKeys.forId(keyId)) == null) {
        throw new IllegalArgumentException("unsupported API key " + keyId);
      }
      final ApiKeys key = ApiKeys.forId(keyId);
      if (!registry.get(key).supports(version)) {
        if (key == ApiKeys.API_VERSIONS) {
          answerUnsupportedApiVersions(buffer.getInt(4));
          frame.release();
          return;
        }
        throw new IllegalArgumentException(key + " version " + version + " is not supported");
      }
      header = RequestHeader.parse(buffer);
      request =
          AbstractRequest.parseRequest(
                  key, version, new org.apache.kafka.common.protocol.ByteBufferAccessor(buffer))
              .request;
    } catch (RuntimeException e) {
      frame.release();
      metrics.malformedRequest();
      LOG.warn(
          "Closing connection from {}: malformed request ({})",
          ctx.channel().remoteAddress(),
          e.getMessage());
      ctx.close();
      return;
    }
    final Pending pending =
        new Pending(
            header.correlationId(),
            header.apiKey(),
            header.apiVersion(),
            header.apiKey().responseHeaderVersion(header.apiVersion()));
    queue.add(pending);
    if (queue.size() >= MAX_IN_FLIGHT) {
      ctx.channel().config().setAutoRead(false);
    }
    metrics.request(header.apiKey());
    final RequestContext context = new RequestContext(header, ctx.channel().remoteAddress());
    inOrder.execute(() -> handle(context, request, frame, pending));
  }

  private void handle(
      RequestContext context, AbstractRequest request, ByteBuf frame, Pending pending) {
    CompletableFuture<ApiMessage> future;
    try {
      future = registry.get(context.apiKey()).handler().handle(context, request.data());
    } catch (RuntimeException e) {
      future = CompletableFuture.failedFuture(e);
    } finally {
      frame.release();
    }
    future.whenComplete(
        (response, error) -> {
          final ApiMessage answer = error == null ? response : errorResponse(request, error);
          ctx.executor().execute(() -> complete(pending, answer));
        });
  }

  private ApiMessage errorResponse(AbstractRequest request, Throwable error) {
    final Throwable cause = KafkaErrors.unwrap(error);
    if (Errors.forException(cause) == Errors.UNKNOWN_SERVER_ERROR) {
      LOG.error("{} failed with an unexpected error", request.apiKey(), cause);
    }
    return request.getErrorResponse(0, cause).data();
  }

  private void complete(Pending pending, ApiMessage response) {
    pending.done = true;
    pending.response = response;
    boolean wrote = false;
    while (!queue.isEmpty() && queue.peek().done) {
      final Pending head = queue.poll();
      if (head.response != null) {
        write(head);
        wrote = true;
      }
    }
    if (wrote) {
      ctx.flush();
    }
    if (queue.size() < MAX_IN_FLIGHT / 2 && ctx.channel().isWritable()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void write(Pending p) {
    if (!ctx.channel().isActive()) {
      return;
    }
    final ObjectSerializationCache cache = new ObjectSerializationCache();
    final ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(p.correlationId);
    final int headerSize = header.size(cache, p.headerVersion);
    final int bodySize = p.response.size(cache, p.version);
    final ResponseWriter writer = new ResponseWriter(ctx.alloc(), 4 + headerSize + bodySize);
    final List<Object> parts;
    try {
      writer.writeInt(headerSize + bodySize);
      header.write(writer, cache, p.headerVersion);
      p.response.write(writer, cache, p.version);
      parts = writer.finish();
    } catch (RuntimeException e) {
      writer.release();
      LOG.error("Cannot encode {} v{} response; closing the connection", p.key, p.version, e);
      ctx.close();
      return;
    }
    metrics.zeroCopyBytes(writer.zeroCopyBytes());
    for (Object part : parts) {
      ctx.write(part, ctx.voidPromise());
    }
  }

  /** Kafka's answer to an ApiVersions request newer than we know: v0 with our versions. */
  private void answerUnsupportedApiVersions(int correlationId) {
    final ApiVersionsResponseData data =
        new ApiVersionsResponseData().setErrorCode(Errors.UNSUPPORTED_VERSION.code());
    registry
        .entries()
        .values()
        .forEach(
            e ->
                data.apiKeys()
                    .add(
                        new ApiVersionsResponseData.ApiVersion()
                            .setApiKey(e.key().id)
                            .setMinVersion(e.minVersion())
                            .setMaxVersion(e.maxVersion())));
    final Pending pending = new Pending(correlationId, ApiKeys.API_VERSIONS, (short) 0, (short) 0);
    queue.add(pending);
    complete(pending, data);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    ctx.channel().config().setAutoRead(ctx.channel().isWritable() && queue.size() < MAX_IN_FLIGHT);
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException
        || cause instanceof io.netty.handler.codec.CorruptedFrameException) {
      metrics.malformedRequest();
      LOG.warn("Closing connection from {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
    } else if (cause instanceof java.io.IOException) {
      LOG.debug("Connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    } else {
      LOG.warn("Closing connection from {} after an error", ctx.channel().remoteAddress(), cause);
    }
    ctx.close();
  }
}
