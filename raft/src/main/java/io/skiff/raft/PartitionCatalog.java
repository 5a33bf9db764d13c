package io.skiff.raft;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.protocol.RaftGroupId;

/**
 * Which partition each Raft group hosted by this broker belongs to, persisted as a {@code
 * partition.meta} file in each partition log directory, so that on restart Ratis' groups (found in
 * the Raft storage directory) can be matched to their logs before Ratis starts them. Thread-safe.
 */
final class PartitionCatalog {
  static final String META_FILE = "partition.meta";

  private final Path logRoot;
  private final ConcurrentHashMap<RaftGroupId, PartitionId> byGroup = new ConcurrentHashMap<>();

  PartitionCatalog(Path logRoot) throws IOException {
    this.logRoot = Files.createDirectories(logRoot);
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(logRoot)) {
      for (Path dir : dirs) {
        final Path meta = dir.resolve(META_FILE);
        if (Files.isRegularFile(meta)) {
          final PartitionId id = read(meta);
          byGroup.put(id.groupId(), id);
        }
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

  /** Records the partition, creating its log directory and meta file. */
  void register(PartitionId id) throws IOException {
    final Path dir = Files.createDirectories(logDir(id));
    final Path meta = dir.resolve(META_FILE);
    if (!Files.exists(meta)) {
      final Properties p = new Properties();
      p.setProperty("topic", id.topic());
      p.setProperty("topic.id", id.topicId().toString());
      p.setProperty("partition", Integer.toString(id.partition()));
      final Path tmp = dir.resolve(META_FILE + ".tmp");
      try (Writer out = Files.newBufferedWriter(tmp)) {
        p.store(out, "Skiff partition; do not edit");
      }
      Files.move(tmp, meta, StandardCopyOption.ATOMIC_MOVE);
    }
    byGroup.put(id.groupId(), id);
  }

  void forget(PartitionId id) {
    byGroup.remove(id.groupId());
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
