package io.skiff.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks ports for servers that tests start later, possibly more than once (a broker restarted on
 * its port).
 *
 * <p>A port found by binding port 0 lies in the kernel's ephemeral range, where every outgoing
 * connection also takes its local port: while a test's broker is down, a client reconnecting to
 * anything may be handed that very port, and the broker then cannot bind it again (Ratis' gRPC
 * server treats that as fatal). Ports below the ephemeral range are never handed out that way, so
 * this class picks from there, checks that nothing listens, and never returns a port twice in one
 * JVM. Thread-safe.
 */
public final class ListenPorts {
  private static final int SPAN = 12_000;
  private static final Set<Integer> GIVEN = new HashSet<>();

  private ListenPorts() {}

  /** A port that nothing listens on now, outside the ephemeral range where the kernel allows it. */
  public static synchronized int free() {
    final int low = ephemeralLow();
    if (low - SPAN < 1024) {
      return bindAny();
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
      final int port = ThreadLocalRandom.current().nextInt(low - SPAN, low);
      if (!GIVEN.contains(port) && bindable(port)) {
        GIVEN.add(port);
        return port;
      }
    }
    return bindAny();
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int bindAny() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }

  private static int ephemeralLow() {
    try {
      // Not Files.readString: it reads as many bytes as the file's size, which /proc gives wrong.
      final String range =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
