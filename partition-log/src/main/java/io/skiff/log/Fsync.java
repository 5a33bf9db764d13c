package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Makes file system changes survive a power cut. A write reaches the disk only when its file is
 * fsynced, and a created, renamed or deleted name only when its directory is: without both, a crash
 * can leave a renamed checkpoint empty, or a fsynced segment file without a name.
 *
 * <p>{@link #writeAtomically} is the one way a small file (checkpoint, snapshot) is replaced: write
 * a temporary file, fsync it, rename it over the target, fsync the directory. After a crash the
 * target holds either the old content or the new one, whole.
 *
 * <p>Thread-safe: stateless. Paths may belong to any file system whose provider supports opening a
 * directory for reading (every POSIX one; tests use a fault-injecting one).
 */
public final class Fsync {
  static final String TMP_SUFFIX = ".tmp";

  private Fsync() {}

  /** Fsyncs a directory, making the creations, renames and deletions of its entries durable. */
  public static void directory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** Fsyncs a file's content and metadata (its length). */
  public static void file(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /**
   * Replaces {@code target} with {@code content} so that a crash leaves either the old file or the
   * new one: through {@code target.tmp}, fsynced before the rename, and the directory fsynced after
   * it. A leftover {@code .tmp} from a crash is the caller's to delete.
   */
  public static void writeAtomically(Path target, ByteBuffer content) throws IOException {
    final Path tmp = target.resolveSibling(target.getFileName() + TMP_SUFFIX);
    try {
      writeAndSync(tmp, content);
    } catch (IOException e) {
      Files.deleteIfExists(tmp); // a full disk gets its space back
      throw e;
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    directory(target.toAbsolutePath().getParent());
  }

  private static void writeAndSync(Path tmp, ByteBuffer content) throws IOException {
    try (FileChannel channel =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      final ByteBuffer bytes = content.duplicate();
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
      channel.force(true);
    }
  }

  /** {@link #writeAtomically(Path, ByteBuffer)} for a byte array. */
  public static void writeAtomically(Path target, byte[] content) throws IOException {
    writeAtomically(target, ByteBuffer.wrap(content));
  }

  /**
   * Creates {@code dir} and any missing parents, fsyncing the parent of each directory it creates,
   * so that a directory a log then fsyncs files into cannot itself vanish in a crash.
   *
   * @return {@code dir}
   */
  public static Path createDirectories(Path dir) throws IOException {
    final Path absolute = dir.toAbsolutePath();
    final Deque<Path> missing = new ArrayDeque<>();
    for (Path p = absolute; p != null && !Files.isDirectory(p); p = p.getParent()) {
      missing.push(p);
    }
    while (!missing.isEmpty()) {
      final Path created = missing.pop();
      Files.createDirectories(created);
      directory(created.getParent());
    }
    return dir;
  }
}
