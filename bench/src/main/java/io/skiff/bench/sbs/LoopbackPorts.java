package io.skiff.bench.sbs;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks a base port on 127.0.0.1 below the ephemeral range (which starts at 32768 on Linux) such
 * that the given offsets from it are all free right now, so harness runs in several checkouts on
 * one machine do not collide. A port can still be taken between the check and the bind; the cluster
 * then fails to start with the broker's own message. Stateless and thread-safe.
 */
final class LoopbackPorts {
  private LoopbackPorts() {}

  /** A base in [20000, 32000) with {@code base + offset} free for every offset. */
  static int freeBase(int... offsets) {
    for (int attempt = 0; attempt < 200; attempt++) {
      final int base = 20_000 + 10 * ThreadLocalRandom.current().nextInt(1_000);
      boolean free = true;
      for (int offset : offsets) {
        free &= isFree(base + offset);
      }
      if (free) {
        return base;
      }
    }
    throw new IllegalStateException("no free port range found on 127.0.0.1 below 32000");
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
