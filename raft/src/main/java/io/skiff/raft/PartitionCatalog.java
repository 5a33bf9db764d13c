package io.skiff.raft;

import io.skiff.log.Fsync;
import io.skiff.raft.partition.PartitionId;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.util.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which partition each Raft group hosted by this broker belongs to, persisted as a {@code
 * partition.meta} file in each partition log directory, so that on restart Ratis' groups (found in
 * the Raft storage directory) can be matched to their logs before Ratis starts them.
 *
 * <p>A log directory is named {@code <topic>-<partition>} as in Kafka, but it belongs to one topic
 * <em>id</em>: the one its {@code partition.meta} names. A directory left by a deleted topic of the
 * same name is never adopted by the new topic: it is renamed to {@code <topic>-<partition>.<topic
 * id>-delete} (Kafka's {@code -delete} suffix) and then deleted, and a directory whose replica
 * still runs here is refused until that replica is removed. Renaming first frees the name in one
 * atomic step, so a deletion can never remove a newer topic's files; a deletion a crash interrupted
 * is finished on the next start.
 *
 * <p>Thread-safe.
 */
final class PartitionCatalog {
  static final String META_FILE = "partition.meta";
  static final String DELETE_SUFFIX = "-delete";

  private static final Logger LOG = LoggerFactory.getLogger(PartitionCatalog.class);

  /** Keeps a renamed directory's name within the 255 bytes file systems allow. */
  private static final int MAX_DELETED_PREFIX = 200;

  private final Path logRoot;
  private final ConcurrentHashMap<RaftGroupId, PartitionId> byGroup = new ConcurrentHashMap<>();

  PartitionCatalog(Path logRoot) throws IOException {
    this.logRoot = Files.createDirectories(logRoot);
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(logRoot)) {
      for (Path dir : dirs) {
        if (dir.getFileName().toString().endsWith(DELETE_SUFFIX)) {
          LOG.info("Finishing the interrupted deletion of {}", dir);
          FileUtils.deleteFully(dir);
          continue;
        }
        final Optional<PartitionId> owner = owner(dir);
        owner.ifPresent(id -> byGroup.put(id.groupId(), id));
      }
    }
  }

  Path logDir(PartitionId id) {
    return logRoot.resolve(id.logDirName());
  }

  Optional<PartitionId> get(RaftGroupId groupId) {
    return Optional.ofNullable(byGroup.get(groupId));
  }

  int size() {
    return byGroup.size();
  }

  /**
   * Records the partition, creating its log directory and meta file. A directory of the same name
   * that belongs to another topic id is deleted first, unless {@code running} says its replica is
   * still hosted here.
   *
   * @throws IOException if the directory belongs to a replica still running here (remove that one
   *     first), or holds files but no meta file (an operator must look at it)
   */
  void register(PartitionId id, Predicate<PartitionId> running) throws IOException {
    final Path dir = logDir(id);
    if (Files.isDirectory(dir)) {
      final Optional<PartitionId> owner = owner(dir);
      if (owner.isPresent() && owner.get().equals(id)) {
        byGroup.put(id.groupId(), id);
        return;
      }
      if (owner.isPresent() && running.test(owner.get())) {
        throw new IOException(
            "log directory "
                + dir
                + " still belongs to the running replica of topic id "
                + owner.get().topicId()
                + " (a deleted topic of the same name); it must be removed before "
                + id
                + " (topic id "
                + id.topicId()
                + ") can be created");
      }
      if (owner.isPresent()) {
        LOG.warn(
            "Log directory {} holds a partition of topic id {}, a deleted topic of the same name;"
                + " deleting it rather than adopting it for topic id {}",
            dir,
            owner.get().topicId(),
            id.topicId());
        byGroup.remove(owner.get().groupId());
        discard(dir, owner.get().topicId());
      } else if (holdsFiles(dir)) {
        throw new IOException(
            "log directory "
                + dir
                + " holds files but no "
                + META_FILE
                + ", so it is not known to belong to "
                + id
                + " (topic id "
                + id.topicId()
                + "); move it out of the way");
      }
    }
    Fsync.createDirectories(dir);
    writeMeta(dir, id);
    byGroup.put(id.groupId(), id);
  }

  void forget(PartitionId id) {
    byGroup.remove(id.groupId());
  }

  /**
   * Deletes the partition's log directory (its log must be closed): renames it to a {@code -delete}
   * name first, so the name is free at once, then deletes its files. A directory of that name that
   * belongs to another topic id is left alone.
   */
  void delete(PartitionId id) throws IOException {
    byGroup.remove(id.groupId());
    final Path dir = logDir(id);
    if (!Files.isDirectory(dir)) {
      return;
    }
    final Optional<PartitionId> owner = owner(dir);
    if (owner.isPresent() && !owner.get().equals(id)) {
      LOG.warn(
          "Not deleting {}: it belongs to topic id {}, not to the removed {} (topic id {})",
          dir,
          owner.get().topicId(),
          id,
          id.topicId());
      return;
    }
    discard(dir, id.topicId());
  }

  /** Renames {@code dir} to its {@code -delete} name, then deletes it. */
  private void discard(Path dir, UUID topicId) throws IOException {
    String prefix = dir.getFileName().toString();
    if (prefix.length() > MAX_DELETED_PREFIX) {
      prefix = prefix.substring(0, MAX_DELETED_PREFIX);
    }
    final String unique = topicId.toString().replace("-", "");
    final Path aside = logRoot.resolve(prefix + "." + unique + DELETE_SUFFIX);
    if (Files.exists(aside)) {
      FileUtils.deleteFully(aside);
    }
    Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
    FileUtils.deleteFully(aside);
  }

  /** Whether the directory holds anything but the temporary file of an unfinished meta write. */
  private static boolean holdsFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.anyMatch(f -> !f.getFileName().toString().equals(META_FILE + ".tmp"));
    }
  }

  /** The partition a log directory's meta file names, if it has one. */
  private static Optional<PartitionId> owner(Path dir) throws IOException {
    final Path meta = dir.resolve(META_FILE);
    return Files.isRegularFile(meta) ? Optional.of(read(meta)) : Optional.empty();
  }

  private static void writeMeta(Path dir, PartitionId id) throws IOException {
    final Properties p = new Properties();
    p.setProperty("topic", id.topic());
    p.setProperty("topic.id", id.topicId().toString());
    p.setProperty("partition", Integer.toString(id.partition()));
    final StringWriter text = new StringWriter();
    p.store(text, "Skiff partition; do not edit");
    // Durable before Ratis formats the group: a directory whose meta a power cut lost would be
    // refused on restart as holding files of an unknown owner.
    Fsync.writeAtomically(dir.resolve(META_FILE), text.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static PartitionId read(Path meta) throws IOException {
    final Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(meta)) {
      p.load(in);
    }
    try {
      return new PartitionId(
          p.getProperty("topic"),
          UUID.fromString(p.getProperty("topic.id")),
          Integer.parseInt(p.getProperty("partition")));
    } catch (RuntimeException e) {
      throw new IOException("unreadable partition file " + meta + ": " + e.getMessage(), e);
    }
  }
}
