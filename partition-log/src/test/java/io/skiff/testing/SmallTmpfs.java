package io.skiff.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A small tmpfs mounted for each test of a class, a disk that the test can fill: {@code mount -t
 * tmpfs} before the test, on a new temporary directory or on a directory the test names (a broker's
 * data directory, say), and a lazy {@code umount -l} after it, since a broker or a failed test may
 * still hold files open there; {@link #fill} fills it up to a chosen margin. Mounting needs root:
 * where it is not permitted, the test is skipped (not failed), saying so.
 *
 * <pre>{@code
 * @RegisterExtension final SmallTmpfs tmpfs = SmallTmpfs.perTest("8m", "disk-full tests");
 *
 * @TempDir Path temp;
 * @RegisterExtension
 * final SmallTmpfs broker2 =
 *     SmallTmpfs.perTestAt(() -> temp.resolve("broker-2"), "256m", "disk-full test");
 * }</pre>
 *
 * <p>Not thread-safe: register it on a test instance field, one test at a time.
 */
public final class SmallTmpfs implements BeforeEachCallback, AfterEachCallback {
  /** Null: a new temporary directory for each test. */
  private final Supplier<Path> mountPoint;

  private final String size;
  private final String skipping;
  private Path path;

  private SmallTmpfs(Supplier<Path> mountPoint, String size, String skipping) {
    this.mountPoint = mountPoint;
    this.size = size;
    this.skipping = skipping;
  }

  /**
   * A tmpfs of {@code size} ({@code mount}'s syntax, e.g. {@code 64m}) for each test; where it
   * cannot be mounted, the message names {@code skipping} as what is skipped.
   */
  public static SmallTmpfs perTest(String size, String skipping) {
    return new SmallTmpfs(null, size, skipping);
  }

  /**
   * A tmpfs of {@code size} for each test, mounted on the directory {@code mountPoint} gives
   * (created if missing; removed, once unmounted, after the test). It is asked for before each
   * test, after JUnit has set the test's {@code @TempDir} fields, so it may resolve against one.
   */
  public static SmallTmpfs perTestAt(Supplier<Path> mountPoint, String size, String skipping) {
    return new SmallTmpfs(mountPoint, size, skipping);
  }

  /** Where the current test's tmpfs is mounted. */
  public Path path() {
    return path;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    path =
        mountPoint == null
            ? Files.createTempDirectory("skiff-tmpfs")
            : Files.createDirectories(mountPoint.get());
    Assumptions.assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", path.toString()),
        "mount -t tmpfs is not permitted here (needs root): skipping the " + skipping);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    if (path != null) {
      run("umount", "-l", path.toString()); // lazily: files may still be open there
      Files.deleteIfExists(path);
      path = null;
    }
  }

  /**
   * Writes zeros to {@code filler} in chunks of {@code chunkBytes} until the disk is full, then
   * truncates it to {@code keep} of the bytes written, which frees the rest.
   */
  public static void fill(Path filler, int chunkBytes, LongUnaryOperator keep) throws IOException {
    final ByteBuffer chunk = ByteBuffer.allocate(chunkBytes);
    long written = 0;
    try (FileChannel channel =
        FileChannel.open(filler, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      while (true) {
        chunk.clear();
        try {
          written += channel.write(chunk, written);
        } catch (IOException full) {
          break;
        }
      }
      channel.truncate(keep.applyAsLong(written));
    }
  }

  private static boolean run(String... command) throws IOException, InterruptedException {
    final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
  }
}
