package io.skiff.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A small tmpfs mounted for each test of a class, a disk that the test can fill: {@code mount -t
 * tmpfs} on a new temporary directory before the test, and a lazy {@code umount -l} after it, since
 * a broker or a failed test may still hold files open there; {@link #fill} fills it up to a chosen
 * margin. Mounting needs root: where it is not permitted, the test is skipped (not failed), saying
 * so.
 *
 * <pre>{@code
 * @RegisterExtension final SmallTmpfs tmpfs = SmallTmpfs.perTest("8m", "disk-full tests");
 * }</pre>
 *
 * <p>Not thread-safe: register it on a test instance field, one test at a time.
 */
public final class SmallTmpfs implements BeforeEachCallback, AfterEachCallback {
  private final String size;
  private final String skipping;
  private Path path;

  private SmallTmpfs(String size, String skipping) {
    this.size = size;
    this.skipping = skipping;
  }

  /**
   * A tmpfs of {@code size} ({@code mount}'s syntax, e.g. {@code 64m}) for each test; where it
   * cannot be mounted, the message names {@code skipping} as what is skipped.
   */
  public static SmallTmpfs perTest(String size, String skipping) {
    return new SmallTmpfs(size, skipping);
  }

  /** Where the current test's tmpfs is mounted. */
  public Path path() {
    return path;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    path = Files.createTempDirectory("skiff-tmpfs");
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
