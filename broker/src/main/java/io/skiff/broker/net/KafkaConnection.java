package io.skiff.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.skiff.broker.api.ApiRegistry;
import io.skiff.broker.api.KafkaErrors;
import io.skiff.broker.api.RequestContext;
import io.skiff.broker.memory.MemoryPressure;
import io.skiff.broker.memory.ProduceMemoryPool;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
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
 * <p>Memory: a Produce request reserves its record bytes in the {@link ProduceMemoryPool} before
 * its handler runs ({@link ProduceAdmission}) and returns them when the handler's future completes
 * (the appends committed or failed). When the pool is exhausted the request is held, the connection
 * stops reading, and later requests queue behind it in order; after {@code produceMaxBlockMs}
 * without memory it is answered REQUEST_TIMED_OUT (retriable; nothing was appended). Every request
 * first passes the memory pressure {@linkplain io.skiff.broker.memory.RequestBackpressure
 * backpressure}: a rejected one is answered without its handler, and a throttled one pauses reading
 * for the throttle time after its response. A connection beyond {@code maxConnections} is closed on
 * arrival.
 *
 * <p>Thread-safety: Netty calls it on the channel's event loop; completions from other threads are
 * handed back to that loop, so the response queue and the held requests are only touched there.
 * Each request frame is released once its handler has returned, or when a held request is answered
 * or dropped.
 */
final class KafkaConnection extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaConnection.class);
  private static final int MAX_IN_FLIGHT = 64;

  private static final long REJECT_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final AtomicLong lastRejectLog = new AtomicLong(System.nanoTime() - (1L << 40));

  private final ApiRegistry registry;
  private final SerialExecutor inOrder;
  private final NetworkMetrics metrics;
  private final ConnectionLimits limits;
  private final ProduceMemoryPool produceMemory;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private ProduceAdmission admission;
  private Future<?> throttleEnd;
  private long throttledUntilNanos;
  private boolean inFlightFull;
  private boolean counted;
  private boolean closed;

  /** A request awaiting its turn to be answered. */
  static final class Pending {
    final int correlationId;
    final short version;
    final short headerVersion;
    final ApiKeys key;
    int throttleMs;
    final long readNanos = System.nanoTime();
    // Set on the request thread, read on the event loop after the handler's future completes.
    volatile long handlerStartNanos; // 0: the handler never ran
    volatile long handlerReturnNanos;
    boolean done;
    boolean uncounted; // no longer in NetworkMetrics' in-flight count (the connection closed)
    ApiMessage response; // null with done = no response

    Pending(int correlationId, ApiKeys key, short version, short headerVersion) {
      this.correlationId = correlationId;
      this.key = key;
      this.version = version;
      this.headerVersion = headerVersion;
    }
  }

  KafkaConnection(
      ApiRegistry registry,
      Executor requestExecutor,
      NetworkMetrics metrics,
      ConnectionLimits limits) {
    this.registry = registry;
    this.inOrder = new SerialExecutor(requestExecutor);
    this.metrics = metrics;
    this.limits = limits;
    this.produceMemory = limits.produceMemory();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.admission =
        new ProduceAdmission(
            produceMemory, limits.produceMaxBlockMs(), ctx.executor(), new AdmissionTarget());
  }

  /** Where the produce admission sends requests. */
  private final class AdmissionTarget implements ProduceAdmission.Target {
    @Override
    public void dispatch(IncomingRequest request, long reservedBytes) {
      inOrder.execute(() -> handle(request, reservedBytes));
    }

    @Override
    public void timedOut(IncomingRequest request) {
      answerProduceTimeout(request);
    }

    @Override
    public void holdingChanged() {
      updateAutoRead();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (!metrics.tryConnectionOpened(limits.maxConnections())) {
      logRejectedConnection(ctx);
      ctx.close();
      return;
    }
    counted = true;
    super.channelActive(ctx);
  }

  /** Logs a connection over the limit, at most once per 10 s (the metric counts them all). */
  private void logRejectedConnection(ChannelHandlerContext ctx) {
    final long last = lastRejectLog.get();
    final long now = System.nanoTime();
    if (now - last >= REJECT_LOG_INTERVAL_NANOS && lastRejectLog.compareAndSet(last, now)) {
      LOG.warn(
          "Closing connection from {}: {} connections are open, the limit of tier '{}'"
              + " (max.connections); raise skiff.tier or max.connections, or pool client"
              + " connections ({} rejected so far)",
          ctx.channel().remoteAddress(),
          limits.maxConnections(),
          limits.tierName(),
          metrics.rejectedConnections());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    closed = true;
    if (counted) {
      metrics.connectionClosed();
    }
    for (Pending p : queue) {
      if (!p.done && !p.uncounted) {
        p.uncounted = true;
        metrics.requestAnswered(); // its answer has nowhere to go
      }
    }
    admission.close();
    if (throttleEnd != null) {
      throttleEnd.cancel(false);
    }
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    final ByteBuf frame = (ByteBuf) msg;
    if (!counted) {
      frame.release(); // a connection over the limit, being closed
      return;
    }
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
    metrics.requestRead();
    if (queue.size() >= MAX_IN_FLIGHT) {
      inFlightFull = true;
    }
    metrics.request(header.apiKey());
    final MemoryPressure.Action action = limits.backpressure().admit(request);
    pending.throttleMs = action.throttleMs();
    if (action.reject()) {
      frame.release();
      complete(pending, limits.backpressure().rejection(request));
      return;
    }
    admission.offer(
        new IncomingRequest(
            new RequestContext(header, ctx.channel().remoteAddress()),
            request,
            frame,
            pending,
            action,
            System.nanoTime(),
            IncomingRequest.produceBytes(request)));
    updateAutoRead();
  }

  /** A Produce request waited too long for produce memory: answer REQUEST_TIMED_OUT. */
  private void answerProduceTimeout(IncomingRequest in) {
    in.frame().release();
    LOG.debug(
        "Produce request {} from {} waited {} ms for produce memory; answering REQUEST_TIMED_OUT",
        in.pending().correlationId,
        ctx.channel().remoteAddress(),
        limits.produceMaxBlockMs());
    final AbstractResponse timeout =
        in.request()
            .getErrorResponse(
                0,
                new TimeoutException(
                    "the broker's produce memory ("
                        + produceMemory.totalBytes()
                        + " bytes) stayed full for "
                        + limits.produceMaxBlockMs()
                        + " ms; retry"));
    complete(in.pending(), timeout == null ? null : timeout.data());
  }

  private void handle(IncomingRequest in, long reservedBytes) {
    CompletableFuture<ApiMessage> future;
    final TopicTraffic.Produce produced =
        in.request().data() instanceof ProduceRequestData produce
            ? metrics.topicTraffic().produceReceived(produce)
            : null;
    in.pending().handlerStartNanos = System.nanoTime();
    try {
      future =
          registry.get(in.context().apiKey()).handler().handle(in.context(), in.request().data());
    } catch (RuntimeException | LinkageError e) {
      // Answered, not lost: a request that never completes would keep its produce memory.
      future = CompletableFuture.failedFuture(e);
    } finally {
      in.frame().release();
      in.pending().handlerReturnNanos = System.nanoTime();
    }
    future.whenComplete(
        (response, error) -> {
          produceMemory.release(reservedBytes);
          final ApiMessage answer = error == null ? response : errorResponse(in.request(), error);
          if (produced != null && answer instanceof ProduceResponseData accepted) {
            metrics.topicTraffic().produceAnswered(produced, accepted);
          }
          if (answer != null) {
            limits.backpressure().stamp(answer, in.action());
          }
          ctx.executor().execute(() -> complete(in.pending(), answer));
        });
  }

  private ApiMessage errorResponse(AbstractRequest request, Throwable error) {
    final Throwable cause = KafkaErrors.unwrap(error);
    if (Errors.forException(cause) == Errors.UNKNOWN_SERVER_ERROR) {
      LOG.error("{} failed with an unexpected error", request.apiKey(), cause);
    }
    final AbstractResponse response = request.getErrorResponse(0, cause);
    return response == null ? null : response.data(); // null: acks=0 gets no answer
  }

  private void complete(Pending pending, ApiMessage response) {
    if (!pending.done && !pending.uncounted) {
      metrics.requestAnswered(
          pending.key,
          pending.readNanos,
          pending.handlerStartNanos,
          pending.handlerReturnNanos,
          System.nanoTime());
    }
    pending.done = true;
    pending.response = response;
    boolean wrote = false;
    while (!queue.isEmpty() && queue.peek().done) {
      final Pending head = queue.poll();
      if (head.response != null) {
        write(head);
        wrote = true;
      }
      if (head.throttleMs > 0) {
        throttle(head.throttleMs);
      }
    }
    if (wrote) {
      ctx.flush();
    }
    if (queue.size() < MAX_IN_FLIGHT / 2) {
      inFlightFull = false;
    }
    updateAutoRead();
  }

  /** Reads no further request for {@code ms} (Kafka's channel muting for throttled clients). */
  private void throttle(int ms) {
    throttledUntilNanos =
        Math.max(throttledUntilNanos, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms));
    if (throttleEnd == null) {
      throttleEnd = ctx.executor().schedule(this::throttleExpired, ms, TimeUnit.MILLISECONDS);
    }
  }

  private void throttleExpired() {
    final long left = throttledUntilNanos - System.nanoTime();
    throttleEnd =
        left > 0
            ? ctx.executor().schedule(this::throttleExpired, left, TimeUnit.NANOSECONDS)
            : null;
    updateAutoRead();
  }

  /** Reads while nothing holds reading back: in-flight limit, writability, memory, throttle. */
  private void updateAutoRead() {
    final boolean read =
        !closed
            && ctx.channel().isWritable()
            && !inFlightFull
            && !admission.holding()
            && throttleEnd == null;
    if (ctx.channel().config().isAutoRead() != read) {
      ctx.channel().config().setAutoRead(read);
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
    if (p.response instanceof FetchResponseData fetched) {
      metrics.topicTraffic().fetchAnswered(fetched);
    }
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
    metrics.requestRead();
    complete(pending, data);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    updateAutoRead();
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
