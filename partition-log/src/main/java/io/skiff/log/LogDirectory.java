package io.skiff.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of one log directory other than segment contents: which segments exist, the checkpoint
 * files ({@code log-start-offset}, {@code recovery-point}) written atomically through a temporary
 * file and a rename, and the {@code .clean-shutdown} marker.
 *
 * <p>Durability: checkpoints and the marker are fsynced with their directory ({@link Fsync}); the
 * creation and deletion of segment files is recorded ({@link #entriesChanged}) and made durable by
 * {@link #syncEntries} before the next checkpoint can claim them.
 *
 * <p>Used by {@link SegmentedLog} under its lock; not thread-safe on its own.
 */
final class LogDirectory {
  static final String CLEAN_SHUTDOWN_FILE = ".clean-shutdown";
  static final String RECOVERY_POINT_FILE = "recovery-point";
  static final String LOG_START_OFFSET_FILE = "log-start-offset";
  static final String CLEANER_CHECKPOINT_FILE = "cleaner-offset-checkpoint";

  private static final Logger LOG = LoggerFactory.getLogger(LogDirectory.class);
  private static final String TMP_SUFFIX = Fsync.TMP_SUFFIX;

  private final Path dir;
  private boolean entriesChanged;

  LogDirectory(Path dir) throws IOException {
    this.dir = Fsync.createDirectories(dir);
  }

  Path path() {
    return dir;
  }

  String name() {
    return dir.getFileName().toString();
  }

  /**
   * Base offsets of the segments present, ascending. Deletes leftovers of interrupted operations:
   * temporary checkpoint files and index files whose {@code .log} is gone.
   */
  List<Long> scanSegments() throws IOException {
    final Set<Long> logs = new HashSet<>();
    final List<Path> indexes = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        final String name = file.getFileName().toString();
        if (name.endsWith(TMP_SUFFIX)) {
          Files.delete(file);
        } else if (name.endsWith(LogSegment.LOG_SUFFIX)) {
          logs.add(parseBaseOffset(file, LogSegment.LOG_SUFFIX));
        } else if (name.endsWith(LogSegment.INDEX_SUFFIX)
            || name.endsWith(LogSegment.TIME_INDEX_SUFFIX)) {
          indexes.add(file);
        }
      }
    }
    for (Path index : indexes) {
      final String name = index.getFileName().toString();
      final String suffix =
          name.endsWith(LogSegment.INDEX_SUFFIX)
              ? LogSegment.INDEX_SUFFIX
              : LogSegment.TIME_INDEX_SUFFIX;
      if (!logs.contains(parseBaseOffset(index, suffix))) {
        LOG.warn("Deleting orphan index {}: its segment file is gone", index);
        Files.delete(index);
      }
    }
    final List<Long> sorted = new ArrayList<>(logs);
    sorted.sort(null);
    return sorted;
  }

  private static long parseBaseOffset(Path file, String suffix) throws IOException {
    final String name = file.getFileName().toString();
    final String digits = name.substring(0, name.length() - suffix.length());
    try {
      final long base = Long.parseLong(digits);
      if (base < 0 || digits.length() != 20) {
        throw new NumberFormatException(digits);
      }
      return base;
    } catch (NumberFormatException e) {
      throw new IOException(
          "unexpected file "
              + file
              + " in a log directory: segment files are named by a 20-digit base offset;"
              + " move it out of the way",
          e);
    }
  }

  /**
   * Whether the last close was clean; removes the marker durably, so that a crash from now on is
   * unclean (a marker back from the dead would make recovery trust a torn tail).
   */
  boolean consumeCleanShutdownMarker() throws IOException {
    final boolean clean = Files.deleteIfExists(dir.resolve(CLEAN_SHUTDOWN_FILE));
    if (clean) {
      Fsync.directory(dir);
    }
    return clean;
  }

  void markCleanShutdown() throws IOException {
    syncEntries();
    Fsync.writeAtomically(dir.resolve(CLEAN_SHUTDOWN_FILE), new byte[0]);
  }

  /** A segment file was created or deleted: the directory must be fsynced before a checkpoint. */
  void entriesChanged() {
    entriesChanged = true;
  }

  /** Fsyncs the directory if segment files were created or deleted since it was last fsynced. */
  void syncEntries() throws IOException {
    if (entriesChanged) {
      Fsync.directory(dir);
      entriesChanged = false;
    }
  }

  long readCheckpoint(String name, long fallback) throws IOException {
    final Path file = dir.resolve(name);
    if (!Files.exists(file)) {
      return fallback;
    }
    final String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      LOG.warn("Ignoring unreadable checkpoint {} ('{}'); using {}", file, text, fallback);
      return fallback;
    }
  }

  /**
   * Replaces a checkpoint durably. The directory is fsynced first when segment files changed, so
   * that a checkpoint never reaches the disk before the segments it speaks of.
   */
  void writeCheckpoint(String name, long value) throws IOException {
    syncEntries();
    Fsync.writeAtomically(dir.resolve(name), (value + "\n").getBytes(StandardCharsets.US_ASCII));
    entriesChanged = false;
  }

  /** Deletes every file of the directory and the directory itself. */
  void deleteAll() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        Files.delete(file);
      }
    }
    Files.delete(dir);
  }
}
