package io.skiff.broker;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of one Kafka listener that lets the first {@code pass} Produce responses
 * through and then loses the next {@code drop} on their way back to the client, as a network that
 * delivers a request but not its answer would. It reads the Kafka framing only: a request's API key
 * and correlation id, and a response's correlation id.
 *
 * <pre>
 * request frame:  int32 size | int16 api_key | int16 api_version | int32 correlation_id | ...
 * response frame: int32 size | int32 correlation_id | ...
 * </pre>
 *
 * <p>Thread-safe; two threads per proxied connection. Closing it closes every connection.
 */
final class ResponseDroppingProxy implements AutoCloseable {
  private static final short PRODUCE = 0;

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final AtomicInteger toPass;
  private final AtomicInteger toDrop;
  private final AtomicInteger dropped = new AtomicInteger();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  /**
   * @param listen where clients connect
   * @param target the broker's listener
   * @param responsesToPass how many Produce responses reach the client before the losses start
   * @param responsesToDrop how many Produce responses after those never reach the client
   */
  ResponseDroppingProxy(
      InetSocketAddress listen, InetSocketAddress target, int responsesToPass, int responsesToDrop)
      throws IOException {
    this.server = new ServerSocket();
    this.server.bind(listen);
    this.target = target;
    this.toPass = new AtomicInteger(responsesToPass);
    this.toDrop = new AtomicInteger(responsesToDrop);
    final Thread acceptor = new Thread(this::accept, "proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Produce responses dropped so far. */
  int dropped() {
    return dropped.get();
  }

  static InetSocketAddress loopback(int port) {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        final Socket client = server.accept();
        final Socket broker = new Socket();
        broker.connect(target);
        sockets.add(client);
        sockets.add(broker);
        final Set<Integer> produceIds = ConcurrentHashMap.newKeySet();
        pump("proxy-requests", client, broker, frame -> requests(frame, produceIds));
        pump("proxy-responses", broker, client, frame -> responses(frame, produceIds));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /** Notes each Produce request's correlation id; forwards every request. */
  private static boolean requests(ByteBuffer frame, Set<Integer> produceIds) {
    if (frame.getShort(0) == PRODUCE) {
      produceIds.add(frame.getInt(4));
    }
    return true;
  }

  /** Forwards a response unless it answers a Produce that falls in the losses. */
  private boolean responses(ByteBuffer frame, Set<Integer> produceIds) {
    if (produceIds.remove(frame.getInt(0))
        && toPass.getAndDecrement() <= 0
        && toDrop.getAndDecrement() > 0) {
      dropped.incrementAndGet();
      return false;
    }
    return true;
  }

  private interface Filter {
    boolean forward(ByteBuffer frame);
  }

  private void pump(String name, Socket from, Socket to, Filter filter) {
    final Thread t =
        new Thread(
            () -> {
              try (DataInputStream in = new DataInputStream(from.getInputStream());
                  DataOutputStream out = new DataOutputStream(to.getOutputStream())) {
                while (true) {
                  final int size = in.readInt();
                  final byte[] body = new byte[size];
                  in.readFully(body);
                  if (filter.forward(ByteBuffer.wrap(body))) {
                    out.writeInt(size);
                    out.write(body);
                    out.flush();
                  }
                }
              } catch (EOFException e) {
                // the peer closed
              } catch (IOException e) {
                // closed by the other direction or by close()
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    sockets.forEach(ResponseDroppingProxy::closeQuietly);
  }
}
