package io.skiff.broker.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.skiff.broker.api.ApiRegistry;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka listener: a Netty server (epoll when available, else NIO) whose pipeline per connection
 * is a {@link RequestFrameDecoder} bounded by {@code socket.request.max.bytes}, which reads each
 * frame into a request buffer pool buffer, then a {@link KafkaConnection}, which applies the {@link
 * ConnectionLimits}. Threads: {@code num.network.threads} event loops named {@code
 * skiff-network-N}, owned and stopped here.
 */
public final class KafkaServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaServer.class);

  private final EventLoopGroup bossGroup;
  private final EventLoopGroup workerGroup;
  private final Channel channel;
  private final boolean epoll;

  public KafkaServer(
      String host,
      int port,
      int networkThreads,
      int maxRequestBytes,
      ApiRegistry registry,
      Executor requestExecutor,
      NetworkMetrics metrics,
      ConnectionLimits limits)
      throws InterruptedException {
    this.epoll = Epoll.isAvailable();
    final var ioHandler = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    this.bossGroup =
        new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("skiff-accept"), ioHandler);
    this.workerGroup =
        new MultiThreadIoEventLoopGroup(
            networkThreads, new DefaultThreadFactory("skiff-network"), ioHandler);
    final ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(bossGroup, workerGroup)
            .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(
                            "frames", new RequestFrameDecoder(limits.frames(), maxRequestBytes))
                        .addLast(
                            "kafka",
                            new KafkaConnection(registry, requestExecutor, metrics, limits));
                  }
                });
    this.channel = bootstrap.bind(new InetSocketAddress(host, port)).sync().channel();
    LOG.info("Kafka listener on {} ({})", channel.localAddress(), epoll ? "epoll" : "nio");
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  public boolean usesEpoll() {
    return epoll;
  }

  /**
   * Accepts no further connections; the open ones keep being served (a draining broker answers the
   * requests in flight before {@link #close}).
   */
  public void stopAccepting() {
    channel.close().syncUninterruptibly();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    bossGroup.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    workerGroup
        .shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS)
        .syncUninterruptibly();
  }
}
