package io.skiff.raft;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;

/**
 * Binds a broker's data directory to one {@code node.id}, as Kafka's {@code meta.properties} does:
 * the first start writes the file, every later start checks it and refuses a directory another
 * broker owns. Two brokers on one directory, or a broker started with another's id, would replay
 * Raft logs written under a different peer id and could vote twice in the same term.
 *
 * <pre>
 *   &lt;data dir&gt;/meta.properties
 *     version=1
 *     node.id=3
 * </pre>
 *
 * <p>Used once, at node start, on the starting thread; not thread-safe.
 */
final class DataDirectoryOwner {
  static final String FILE = "meta.properties";
  private static final String NODE_ID = "node.id";

  private DataDirectoryOwner() {}

  /**
   * Checks that {@code dataDir} belongs to {@code nodeId}, claiming it if no broker has yet.
   *
   * @throws IOException if another node id owns it, or its file is unreadable
   */
  static void bind(Path dataDir, int nodeId) throws IOException {
    Files.createDirectories(dataDir);
    final Path file = dataDir.resolve(FILE);
    if (Files.exists(file)) {
      final int owner = read(file);
      if (owner != nodeId) {
        throw new IOException(
            "data directory "
                + dataDir
                + " belongs to node.id "
                + owner
                + " (see "
                + file
                + ") but this broker is node.id "
                + nodeId
                + "; give each broker its own log.dirs, or start it with node.id "
                + owner);
      }
      return;
    }
    write(dataDir, file, nodeId);
  }

  private static int read(Path file) throws IOException {
    final Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file)) {
      p.load(in);
    }
    try {
      return Integer.parseInt(p.getProperty(NODE_ID, "").trim());
    } catch (NumberFormatException e) {
      throw new IOException(
          file + " names no valid " + NODE_ID + " ('" + p.getProperty(NODE_ID) + "'); fix it", e);
    }
  }

  /** Writes through a temporary file, fsynced, and an atomic rename, then syncs the directory. */
  private static void write(Path dataDir, Path file, int nodeId) throws IOException {
    final Properties p = new Properties();
    p.setProperty("version", "1");
    p.setProperty(NODE_ID, Integer.toString(nodeId));
    final Path tmp = dataDir.resolve(FILE + ".tmp");
    try (Writer out = Files.newBufferedWriter(tmp)) {
      p.store(out, "Skiff data directory owner; do not edit");
    }
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel directory = FileChannel.open(dataDir, StandardOpenOption.READ)) {
      directory.force(true);
    }
  }
}
