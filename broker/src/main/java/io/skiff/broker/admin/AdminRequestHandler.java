package io.skiff.broker.admin;

import com.codahale.metrics.MetricRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers one aggregated HTTP request of the admin server with one complete response.
 *
 * <pre>
 *   GET /health   200 {"status":"ok","detail":…}  or  503 {"status":"unavailable","reason":…}
 *   GET /metrics  200 Prometheus text 0.0.4 of the registry, then the standard JVM and process
 *                 families ({@link StandardJvmMetrics})
 *   GET /v1/…     200 the JSON of the endpoint registered under that path
 *   POST prefix…  the registered action's JSON once it completes: 200, or its refusal status
 *   other paths   404          non-GET on a known path   405 with Allow: GET
 *   malformed     400, then the connection is closed
 * </pre>
 *
 * <p>The query string is ignored. Every response has {@code Content-Length}; the connection stays
 * open when the request asked for keep-alive ({@link HttpUtil#isKeepAlive}) and is closed after the
 * response otherwise, and when the connection was idle for the idle timeout.
 *
 * <p>Buffers: the request is released by {@link SimpleChannelInboundHandler} after {@link
 * #channelRead0}; the response body is allocated only once its text is complete and is released by
 * the write, whether it succeeds or fails.
 *
 * <p>Sharable and thread-safe: it holds only the registry, the standard metrics, the health check
 * and the concurrent endpoint map owned by {@link AdminHttpServer}. Bodies are computed on the
 * event loop, so a slow endpoint delays the other requests of the admin event loop, never the Kafka
 * listener.
 */
@ChannelHandler.Sharable
final class AdminRequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  static final String HEALTH_PATH = "/health";
  static final String METRICS_PATH = "/metrics";
  static final String JSON = "application/json; charset=utf-8";
  static final String TEXT = "text/plain; charset=utf-8";

  private static final Logger LOG = LoggerFactory.getLogger(AdminRequestHandler.class);

  private final MetricRegistry registry;
  private final StandardJvmMetrics standard = new StandardJvmMetrics();
  private final Supplier<HealthStatus> healthCheck;
  private final Map<String, Supplier<String>> jsonEndpoints;
  private final Map<String, AdminAction> actions;

  /** A response before it is encoded. */
  private record Reply(HttpResponseStatus status, String contentType, String body) {}

  AdminRequestHandler(
      MetricRegistry registry,
      Supplier<HealthStatus> healthCheck,
      Map<String, Supplier<String>> jsonEndpoints,
      Map<String, AdminAction> actions) {
    this.registry = registry;
    this.healthCheck = healthCheck;
    this.jsonEndpoints = jsonEndpoints;
    this.actions = actions;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (!request.decoderResult().isSuccess()) {
      Reply reply = new Reply(HttpResponseStatus.BAD_REQUEST, TEXT, "Malformed HTTP request\n");
      write(ctx, request, reply, false);
      return;
    }
    String path = new QueryStringDecoder(request.uri()).path();
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (request.method().equals(HttpMethod.POST)) {
      for (Map.Entry<String, AdminAction> action : actions.entrySet()) {
        if (path.startsWith(action.getKey())) {
          post(ctx, request, action.getValue(), path.substring(action.getKey().length()));
          return;
        }
      }
    }
    write(ctx, request, route(request.method(), path), keepAlive);
  }

  /** Runs an action; the response is written when its future completes, on whichever thread. */
  private static void post(
      ChannelHandlerContext ctx, FullHttpRequest request, AdminAction action, String subPath) {
    final boolean keepAlive = HttpUtil.isKeepAlive(request);
    final io.netty.handler.codec.http.HttpVersion version = request.protocolVersion();
    CompletableFuture<String> result;
    try {
      result = action.post(subPath);
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    result.whenComplete((body, error) -> write(ctx, version, actionReply(body, error), keepAlive));
  }

  private static Reply actionReply(String body, Throwable error) {
    if (error == null) {
      return new Reply(HttpResponseStatus.OK, JSON, body);
    }
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof AdminActionException refused) {
      String json = "{\"error\":" + JsonString.quote(refused.getMessage()) + "}";
      return new Reply(HttpResponseStatus.valueOf(refused.status()), JSON, json);
    }
    LOG.warn("Admin action failed", cause);
    String json = "{\"error\":" + JsonString.quote(String.valueOf(cause)) + "}";
    return new Reply(HttpResponseStatus.INTERNAL_SERVER_ERROR, JSON, json);
  }

  private Reply route(HttpMethod method, String path) {
    Supplier<String> json = jsonEndpoints.get(path);
    boolean known = json != null || path.equals(HEALTH_PATH) || path.equals(METRICS_PATH);
    if (!known) {
      return new Reply(HttpResponseStatus.NOT_FOUND, TEXT, "No admin endpoint at " + path + "\n");
    }
    if (!method.equals(HttpMethod.GET)) {
      return new Reply(
          HttpResponseStatus.METHOD_NOT_ALLOWED,
          TEXT,
          path + " answers GET only, not " + method + "\n");
    }
    if (path.equals(HEALTH_PATH)) {
      return health();
    }
    try {
      if (path.equals(METRICS_PATH)) {
        return new Reply(
            HttpResponseStatus.OK,
            PrometheusFormat.CONTENT_TYPE,
            PrometheusFormat.render(registry) + standard.render());
      }
      return new Reply(HttpResponseStatus.OK, JSON, Objects.requireNonNull(json.get(), "body"));
    } catch (RuntimeException e) {
      LOG.warn("Admin endpoint {} failed", path, e);
      String error = "{\"error\":" + JsonString.quote(path + " failed: " + e) + "}";
      return new Reply(HttpResponseStatus.INTERNAL_SERVER_ERROR, JSON, error);
    }
  }

  private Reply health() {
    HealthStatus status;
    try {
      status = Objects.requireNonNull(healthCheck.get(), "health status");
    } catch (RuntimeException e) {
      LOG.warn("Health check failed; /health answers 503", e);
      status = HealthStatus.unavailable("health check failed: " + e);
    }
    HttpResponseStatus code =
        status.healthy() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE;
    return new Reply(code, JSON, status.toJson());
  }

  private static void write(
      ChannelHandlerContext ctx, FullHttpRequest request, Reply reply, boolean keepAlive) {
    write(ctx, request.protocolVersion(), reply, keepAlive);
  }

  private static void write(
      ChannelHandlerContext ctx,
      io.netty.handler.codec.http.HttpVersion version,
      Reply reply,
      boolean keepAlive) {
    ByteBuf body = ByteBufUtil.writeUtf8(ctx.alloc(), reply.body());
    FullHttpResponse response = new DefaultFullHttpResponse(version, reply.status(), body);
    response
        .headers()
        .set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    if (reply.status().equals(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
      response.headers().set(HttpHeaderNames.ALLOW, HttpMethod.GET.name());
    }
    HttpUtil.setKeepAlive(response, keepAlive);
    ChannelFuture written = ctx.writeAndFlush(response);
    written.addListener(
        keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof IdleStateEvent) {
      ctx.close();
    } else {
      super.userEventTriggered(ctx, event);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      LOG.debug("Admin HTTP connection {} failed", ctx.channel().remoteAddress(), cause);
    } else {
      LOG.warn("Admin HTTP connection {} failed", ctx.channel().remoteAddress(), cause);
    }
    ctx.close();
  }
}
