package io.skiff.broker.admin;

import com.codahale.metrics.MetricRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's admin HTTP server (port {@value #DEFAULT_PORT} by default): {@code GET /health},
 * {@code GET /metrics} in Prometheus text format, and JSON endpoints that other components register
 * by path, such as a memory report under {@code /v1/memory}.
 *
 * <pre>
 *   try (AdminHttpServer admin =
 *       AdminHttpServer.start(new InetSocketAddress("0.0.0.0", 9644), registry, health)) {
 *     admin.registerJson("/v1/memory", memoryReport::toJson);
 *     …
 *   }
 * </pre>
 *
 * <p>The server runs on its own event loop group of {@value #EVENT_LOOP_THREADS} threads named
 * {@code skiff-admin-N} (epoll where available, NIO otherwise), apart from the Kafka listener, so
 * that a slow scrape never delays produce or fetch. Each connection is decoded, aggregated (at most
 * {@value #MAX_REQUEST_BYTES} bytes) and answered by {@link AdminRequestHandler}; a connection idle
 * for {@value #IDLE_TIMEOUT_SECONDS} s is closed.
 *
 * <p>{@code POST} actions ({@link #registerAction}) answer asynchronously, once their future
 * completes.
 *
 * <p>Thread-safety: {@link #registerJson} may be called from any thread at any time; the endpoint
 * is served from the next request on. The creator owns the server and its threads and stops them
 * with {@link #close()}, which closes the listening socket and every open connection.
 */
public final class AdminHttpServer implements AutoCloseable {

  /** The admin port of a Skiff broker unless configured otherwise. */
  public static final int DEFAULT_PORT = 9644;

  static final int EVENT_LOOP_THREADS = 2;
  static final int MAX_REQUEST_BYTES = 64 * 1024;
  static final int IDLE_TIMEOUT_SECONDS = 60;
  private static final long SHUTDOWN_TIMEOUT_SECONDS = 5;
  private static final Logger LOG = LoggerFactory.getLogger(AdminHttpServer.class);

  private final EventLoopGroup group;
  private final Channel serverChannel;
  private final Map<String, Supplier<String>> jsonEndpoints;
  private final Map<String, AdminAction> actions;

  private AdminHttpServer(
      EventLoopGroup group,
      Channel serverChannel,
      Map<String, Supplier<String>> jsonEndpoints,
      Map<String, AdminAction> actions) {
    this.group = group;
    this.serverChannel = serverChannel;
    this.jsonEndpoints = jsonEndpoints;
    this.actions = actions;
  }

  /**
   * Binds {@code address} (port 0 picks a free port, see {@link #port()}) and starts serving.
   *
   * @param registry the metrics rendered by {@code /metrics}
   * @param healthCheck called on every {@code /health}; should answer quickly and not block
   * @throws IOException if the address cannot be bound, e.g. because the port is in use
   */
  public static AdminHttpServer start(
      InetSocketAddress address, MetricRegistry registry, Supplier<HealthStatus> healthCheck)
      throws IOException {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory ioHandler = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(EVENT_LOOP_THREADS, new AdminThreadFactory(), ioHandler);
    Map<String, Supplier<String>> jsonEndpoints = new ConcurrentHashMap<>();
    Map<String, AdminAction> actions = new ConcurrentHashMap<>();
    AdminRequestHandler handler =
        new AdminRequestHandler(registry, healthCheck, jsonEndpoints, actions);
    ChannelFuture bound =
        new ServerBootstrap()
            .group(group)
            .channel(channelType)
            .childHandler(new AdminChannelInitializer(handler))
            .bind(address)
            .awaitUninterruptibly();
    if (!bound.isSuccess()) {
      group
          .shutdownGracefully(0, SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .awaitUninterruptibly();
      throw new IOException(
          "Cannot bind the admin HTTP server to "
              + address
              + " ("
              + bound.cause()
              + "); free the port or configure another admin port",
          bound.cause());
    }
    AdminHttpServer server = new AdminHttpServer(group, bound.channel(), jsonEndpoints, actions);
    LOG.info(
        "Admin HTTP server listening on {} ({})",
        bound.channel().localAddress(),
        epoll ? "epoll" : "nio");
    return server;
  }

  /** The bound port; the real one when started with port 0. */
  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /**
   * Serves {@code json.get()} as {@code application/json} under {@code GET path}.
   *
   * @param path an absolute path such as {@code /v1/memory}, without query string
   * @param json returns the JSON text of one response; called on the admin event loop per request
   * @throws IllegalArgumentException if the path is not absolute, is {@code /health} or {@code
   *     /metrics}, or is already registered
   */
  public void registerJson(String path, Supplier<String> json) {
    if (!path.startsWith("/") || path.contains("?")) {
      throw new IllegalArgumentException(
          "Admin endpoint path must be absolute without a query string: " + path);
    }
    if (path.equals(AdminRequestHandler.HEALTH_PATH)
        || path.equals(AdminRequestHandler.METRICS_PATH)) {
      throw new IllegalArgumentException(path + " is served by the admin server itself");
    }
    if (jsonEndpoints.putIfAbsent(path, json) != null) {
      throw new IllegalArgumentException("An admin endpoint is already registered at " + path);
    }
  }

  /**
   * Serves {@code POST prefix...} with {@code action}, which gets the rest of the path.
   *
   * @param prefix an absolute path ending in {@code /}, such as {@code /v1/brokers/}
   * @throws IllegalArgumentException if the prefix is malformed or already registered
   */
  public void registerAction(String prefix, AdminAction action) {
    if (!prefix.startsWith("/") || !prefix.endsWith("/") || prefix.contains("?")) {
      throw new IllegalArgumentException(
          "Admin action prefix must be absolute and end in '/': " + prefix);
    }
    if (actions.putIfAbsent(prefix, action) != null) {
      throw new IllegalArgumentException("An admin action is already registered at " + prefix);
    }
  }

  /**
   * Closes the listening socket and every connection, then stops the event loop threads once the
   * pending writes are done. Waits at most a few seconds; safe to call twice.
   */
  @Override
  public void close() {
    serverChannel.close().awaitUninterruptibly();
    group.shutdownGracefully(0, SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Builds the pipeline of one accepted connection. */
  private static final class AdminChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final AdminRequestHandler handler;

    AdminChannelInitializer(AdminRequestHandler handler) {
      this.handler = handler;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
      channel
          .pipeline()
          .addLast(new IdleStateHandler(0, 0, IDLE_TIMEOUT_SECONDS, TimeUnit.SECONDS))
          .addLast(new HttpServerCodec())
          .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
          .addLast(handler);
    }
  }

  /**
   * Names the event loop threads {@code skiff-admin-1}, {@code skiff-admin-2}, … They are daemon
   * threads: the admin server alone never keeps a broker's JVM from exiting.
   */
  private static final class AdminThreadFactory implements ThreadFactory {
    private final AtomicInteger next = new AtomicInteger(1);

    @Override
    public Thread newThread(Runnable task) {
      Thread thread = new FastThreadLocalThread(task, "skiff-admin-" + next.getAndIncrement());
      thread.setDaemon(true);
      return thread;
    }
  }
}
