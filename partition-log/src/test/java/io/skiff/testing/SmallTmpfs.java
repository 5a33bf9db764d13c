package io.skiff.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A small tmpfs mounted for one test, a disk that the test can fill: {@code mount -t tmpfs} on a
 * new directory, and a lazy {@code umount -l} by {@link #unmount()}, since a broker or a failed
 * test may still hold files open there. Mounting needs root: where it is not permitted, the test is
 * skipped (not failed), saying so. Not thread-safe: one test owns it.
 */
public final class SmallTmpfs {
  private final Path path;

  private SmallTmpfs(Path path) {
    this.path = path;
  }

  /**
   * Creates {@code dir} and mounts a tmpfs of {@code size} ({@code mount}'s syntax, e.g. {@code
   * 64m}) there; where that is not permitted, aborts the calling test, naming {@code skipping} as
   * what is skipped.
   */
  public static SmallTmpfs mountOrSkip(Path dir, String size, String skipping) throws Exception {
    final Path path = Files.createDirectory(dir);
    Assumptions.assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", path.toString()),
        "mount -t tmpfs is not permitted here (needs root): skipping the " + skipping);
    return new SmallTmpfs(path);
  }

  /** Where the tmpfs is mounted. */
  public Path path() {
    return path;
  }

  /** Unmounts lazily: the files still open stay readable to their holders until closed. */
  public void unmount() throws IOException, InterruptedException {
    run("umount", "-l", path.toString());
  }

  private static boolean run(String... command) throws IOException, InterruptedException {
    final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
  }
}
