package org.apache.ratis.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.ServerSocket;
import org.apache.ratis.thirdparty.io.netty.channel.ChannelInitializer;
import org.apache.ratis.thirdparty.io.netty.channel.EventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.nio.NioEventLoopGroup;
import org.apache.ratis.thirdparty.io.netty.channel.socket.SocketChannel;
import org.junit.jupiter.api.Test;

/**
 * Patch 0019: a Netty client whose server refuses the connection fails its connect with that
 * exception and stays NEW (not EXCEPTION, the state LifeCycle logs an ERROR stack trace for).
 */
class NettyClientConnectTest {
  @Test
  void aRefusedConnectionFailsTheConnectAndLeavesTheClientNew() throws Exception {
    final int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nobody listens there
    }
    final EventLoopGroup group = new NioEventLoopGroup(1);
    try {
      final NettyClient client = new NettyClient("127.0.0.1:" + port);
      assertThatThrownBy(
              () ->
                  client.connect(
                      group,
                      new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {}
                      }))
          .isInstanceOf(ConnectException.class);
      // NEW: writing is a programming error; after EXCEPTION it would be AlreadyClosedException.
      assertThat(client.toString()).contains("NEW");
      assertThatThrownBy(() -> client.writeAndFlush(new Object()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("state=NEW");
      client.close();
    } finally {
      group.shutdownGracefully().syncUninterruptibly();
    }
  }
}
