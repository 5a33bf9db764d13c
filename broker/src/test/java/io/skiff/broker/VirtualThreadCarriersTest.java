package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VirtualThreadCarriers#bound()} in a JVM of its own (the scheduler reads the bound once per
 * JVM): twice as many virtual threads as the bound block in a file operation for which the JDK adds
 * a carrier ({@code FileChannel.lock} on a file this test's JVM has locked), and the JVM runs no
 * more carriers than the bound; an operator's own setting wins.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VirtualThreadCarriersTest {
  private static final String CARRIER_NAME = "ForkJoinPool-1-worker-";

  @TempDir Path dir;
  private final List<FileChannel> held = new ArrayList<>();

  @AfterEach
  void releaseLocks() throws IOException {
    for (FileChannel channel : held) {
      channel.close();
    }
  }

  @Test
  void carriersStayWithinTheBoundWhileVirtualThreadsBlockInFileLocks() throws Exception {
    final int bound = VirtualThreadCarriers.limit(Runtime.getRuntime().availableProcessors());
    final int blocked = 2 * bound + 8;
    final String[] out = runProbe(blocked, List.of());

    assertThat(Integer.parseInt(out[1])).as("bound the probe set").isEqualTo(bound);
    assertThat(Integer.parseInt(out[0]))
        .as("carriers with %d virtual threads blocked in file locks", blocked)
        .isBetween(1, bound);
  }

  @Test
  void anOperatorsSettingWins() throws Exception {
    final String[] out = runProbe(4, List.of("-D" + VirtualThreadCarriers.MAX_POOL_SIZE + "=24"));
    assertThat(Integer.parseInt(out[1])).isEqualTo(24);
  }

  @Test
  void theBoundIsSixteenPerCoreAndAtLeastSixtyFour() {
    assertThat(VirtualThreadCarriers.limit(1)).isEqualTo(64);
    assertThat(VirtualThreadCarriers.limit(2)).isEqualTo(64);
    assertThat(VirtualThreadCarriers.limit(8)).isEqualTo(128);
    assertThat(VirtualThreadCarriers.limit(64)).isEqualTo(1024);
  }

  /** Locks {@code files} files here, runs {@link Probe} on them; its output: carriers, bound. */
  private String[] runProbe(int files, List<String> jvmOptions) throws Exception {
    for (int i = 0; i < files; i++) {
      final FileChannel channel =
          FileChannel.open(
              dir.resolve("lock-" + i), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      held.add(channel);
      final FileLock lock = channel.lock();
      assertThat(lock.isValid()).isTrue();
    }
    final List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            Probe.class.getName(),
            dir.toString(),
            Integer.toString(files)));
    final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    final String output =
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("probe output: %s", output).isZero();
    return output.lines().reduce((first, last) -> last).orElseThrow().split(" ");
  }

  /**
   * Applies the bound, then blocks one virtual thread per file in {@code FileChannel.lock} and
   * prints the number of carrier threads and the bound.
   */
  public static final class Probe {
    private Probe() {}

    public static void main(String[] args) throws Exception {
      final int bound = VirtualThreadCarriers.bound();
      final Path dir = Path.of(args[0]);
      final int files = Integer.parseInt(args[1]);
      for (int i = 0; i < files; i++) {
        final Path file = dir.resolve("lock-" + i);
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    FileChannel.open(file, StandardOpenOption.WRITE).lock();
                  } catch (IOException e) {
                    throw new IllegalStateException(e);
                  }
                });
      }
      Thread.sleep(3_000);
      final long carriers =
          Thread.getAllStackTraces().keySet().stream()
              .filter(t -> t.getName().startsWith(CARRIER_NAME))
              .count();
      System.out.println(carriers + " " + bound);
      System.exit(0);
    }
  }
}
