package io.skiff.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ListenPortsTest {
  private static final Path RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

  @Test
  void portsAreDistinctBindableAndBelowTheEphemeralRange() throws IOException {
    assumeTrue(Files.isReadable(RANGE), "no " + RANGE + " on this system");
    final int ephemeralLow = Integer.parseInt(Files.readAllLines(RANGE).get(0).split("\\s+")[0]);
    assumeTrue(ephemeralLow > 13_000, "ephemeral range starts too low: " + ephemeralLow);
    final Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      final int port = ListenPorts.free();
      assertThat(port).isBetween(1024, ephemeralLow - 1);
      assertThat(ports.add(port)).as("port %d handed out twice", port).isTrue();
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(port));
      }
    }
  }
}
