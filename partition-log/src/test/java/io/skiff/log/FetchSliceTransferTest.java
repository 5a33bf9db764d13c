package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fetch path's contract: a slice goes to a socket with sendfile and arrives unchanged. */
class FetchSliceTransferTest {
  @TempDir Path dir;

  @Test
  void transfersSlicesToASocketByteForByte() throws Exception {
    final List<ByteBuffer> appended = new ArrayList<>();
    try (SegmentedLog log =
            SegmentedLog.open(dir, LogConfig.builder().segmentBytes(256 * 1024).build());
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      for (int i = 0; i < 400; i++) {
        final ByteBuffer batch = TestBatches.batch(log.logEndOffset(), 8, 1000, i);
        appended.add(batch.duplicate());
        log.append(batch);
      }
      final byte[] expected = TestBatches.bytes(TestBatches.concat(appended));
      final CompletableFuture<byte[]> received =
          CompletableFuture.supplyAsync(() -> readFully(server, expected.length));

      long sent = 0;
      try (SocketChannel socket =
          SocketChannel.open(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()))) {
        long offset = 0;
        while (offset < log.logEndOffset()) {
          final FetchSlice slice = log.read(offset, 100_000, log.logEndOffset());
          sent += slice.transferTo(socket);
          offset = slice.nextOffset();
        }
      }
      assertThat(log.segmentCount()).isGreaterThan(1);
      assertThat(sent).isEqualTo(expected.length);
      assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(expected);
    }
  }

  private static byte[] readFully(ServerSocket server, int length) {
    try (Socket peer = server.accept();
        InputStream in = peer.getInputStream()) {
      final ByteArrayOutputStream out = new ByteArrayOutputStream(length);
      in.transferTo(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
