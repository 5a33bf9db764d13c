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
import org.apache.kafka.common.message.ProduceRequestData;
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
 * {@link io.skiff.broker.api.ApiHandler} on the request executor, and writes the responses back in
 * request order, however out of order they complete.
 *
 * <p>Example: a client pipelines Produce (acks=all, completes in 5 ms) then Metadata (completes at
 * once); the Metadata response waits in the queue until the Produce response is written.
 *
 * <p>Frames it cannot parse, unknown API keys and unsupported versions close the connection with a
 * logged reason (an ApiVersions request of a newer version gets Kafka's UNSUPPORTED_VERSION answer
 * instead, so clients can downgrade). Nothing a client sends can escape this handler.
 *
 * <p>Memory: a Produce request reserves its record bytes in the {@link ProduceMemoryPool} before
 * its handler runs and returns them when the handler's future completes (the appends committed or
 * failed). When the pool is exhausted the request is held, the connection stops reading, and later
 * requests queue behind it in order; after {@code produceMaxBlockMs} without memory it is answered
 * REQUEST_TIMED_OUT (retriable; nothing was appended). Every request first passes the memory
 * pressure {@linkplain io.skiff.broker.memory.RequestBackpressure backpressure}: a rejected one is
 * answered without its handler, and a throttled one pauses reading for the throttle time after its
 * response. A connection beyond {@code maxConnections} is closed on arrival.
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
  private final Executor requestExecutor;
  private final NetworkMetrics metrics;
  private final ConnectionLimits limits;
  private final ProduceMemoryPool produceMemory;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final ArrayDeque<Incoming> held = new ArrayDeque<>(); // waiting for produce memory
  private ChannelHandlerContext ctx;
  private ProduceMemoryPool.Waiter waiter; // the head of held's reservation
  private Future<?> waitTimeout;
  private Future<?> throttleEnd;
  private long throttledUntilNanos;
  private boolean inFlightFull;
  private boolean counted;
  private boolean closed;

  /** A request awaiting its turn to be answered. */
  private static final class Pending {
    final int correlationId;
    final short version;
    final short headerVersion;
    final ApiKeys key;
    int throttleMs;
    boolean done;
    ApiMessage response; // null with done = no response

    Pending(int correlationId, ApiKeys key, short version, short headerVersion) {
      this.correlationId = correlationId;
      this.key = key;
      this.version = version;
      this.headerVersion = headerVersion;
    }
  }

  /** A decoded request on its way to its handler. */
  private record Incoming(
      RequestContext context,
      AbstractRequest request,
      ByteBuf frame,
      Pending pending,
      MemoryPressure.Action action,
      long arrivalNanos,
      long produceBytes) {}

  KafkaConnection(
      ApiRegistry registry,
      Executor requestExecutor,
      NetworkMetrics metrics,
      ConnectionLimits limits) {
    this.registry = registry;
    this.requestExecutor = requestExecutor;
    this.metrics = metrics;
    this.limits = limits;
    this.produceMemory = limits.produceMemory();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
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
    if (waiter != null && produceMemory.cancel(waiter)) {
      waiter = null; // otherwise memoryGranted runs and returns the bytes
    }
    for (Incoming in : held) {
      in.frame().release();
    }
    held.clear();
    cancel(waitTimeout);
    cancel(throttleEnd);
    super.channelInactive(ctx);
  }

  private static void cancel(Future<?> task) {
    if (task != null) {
      task.cancel(false);
    }
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
    if (queue.size() >= MAX_IN_FLIGHT) {
      inFlightFull = true;
    }
    metrics.request(header.apiKey());
    final MemoryPressure.Action action = limits.backpressure().admit(request);
    pending.throttleMs = action.throttleMs();
    final Incoming in =
        new Incoming(
            new RequestContext(header, ctx.channel().remoteAddress()),
            request,
            frame,
            pending,
            action,
            System.nanoTime(),
            produceBytes(request));
    if (held.isEmpty()) {
      admit(in);
    } else {
      held.add(in);
    }
    updateAutoRead();
  }

  /** The record bytes of a Produce request (0 for other requests). */
  private static long produceBytes(AbstractRequest request) {
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

  /**
   * Dispatches a request, answers it at once if rejected, or holds it at the front of {@link #held}
   * until produce memory is granted; returns false when it is held.
   */
  private boolean admit(Incoming in) {
    if (in.action().reject()) {
      in.frame().release();
      complete(in.pending(), limits.backpressure().rejection(in.request()));
      return true;
    }
    if (in.produceBytes() == 0) {
      dispatch(in, 0);
      return true;
    }
    final ProduceMemoryPool.Waiter w =
        produceMemory.reserveOrWait(
            in.produceBytes(), () -> ctx.executor().execute(this::memoryGranted));
    if (w == null) {
      dispatch(in, produceMemory.reservationFor(in.produceBytes()));
      return true;
    }
    waiter = w;
    held.addFirst(in);
    final long waitNanos =
        in.arrivalNanos()
            + TimeUnit.MILLISECONDS.toNanos(limits.produceMaxBlockMs())
            - System.nanoTime();
    waitTimeout =
        ctx.executor()
            .schedule(this::memoryWaitExpired, Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
    return false;
  }

  /** Produce memory was reserved for the head of {@link #held}: dispatch it and what follows. */
  private void memoryGranted() {
    final long bytes = waiter.bytes();
    waiter = null;
    cancel(waitTimeout);
    if (closed) {
      produceMemory.release(bytes);
      return;
    }
    dispatch(held.poll(), bytes);
    admitHeld();
  }

  /** The head of {@link #held} waited too long for produce memory: answer it REQUEST_TIMED_OUT. */
  private void memoryWaitExpired() {
    if (waiter == null || closed || !produceMemory.cancel(waiter)) {
      return; // granted meanwhile: memoryGranted is on its way
    }
    waiter = null;
    produceMemory.recordTimeout();
    final Incoming in = held.poll();
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
    admitHeld();
  }

  private void admitHeld() {
    while (waiter == null && !held.isEmpty()) {
      if (!admit(held.poll())) {
        break;
      }
    }
    updateAutoRead();
  }

  private void dispatch(Incoming in, long reservedBytes) {
    requestExecutor.execute(() -> handle(in, reservedBytes));
  }

  private void handle(Incoming in, long reservedBytes) {
    CompletableFuture<ApiMessage> future;
    try {
      future =
          registry.get(in.context().apiKey()).handler().handle(in.context(), in.request().data());
    } catch (RuntimeException e) {
      future = CompletableFuture.failedFuture(e);
    } finally {
      in.frame().release();
    }
    future.whenComplete(
        (response, error) -> {
          produceMemory.release(reservedBytes);
          final ApiMessage answer = error == null ? response : errorResponse(in.request(), error);
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
            && held.isEmpty()
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
