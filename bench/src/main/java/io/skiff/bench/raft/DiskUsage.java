package io.skiff.bench.raft;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Bytes a broker wrote into its data directory, by component, from file sizes: sampled often so
 * that files deleted during the run (purged Raft segments, old snapshots) still count with the
 * largest size they reached. Index files are preallocated sparse files, so for them the allocated
 * size ({@code du}) counts instead of the length. Growth is measured from {@link #baseline()}.
 */
final class DiskUsage {
  private final Path dataDir;
  private final Map<Path, Long> baseline = new HashMap<>();
  private final Map<Path, Long> maxSeen = new HashMap<>();

  DiskUsage(Path dataDir) {
    this.dataDir = dataDir;
  }

  /** Records the current sizes as the zero point. */
  synchronized void baseline() throws IOException {
    baseline.clear();
    maxSeen.clear();
    baseline.putAll(sizes());
    maxSeen.putAll(baseline);
  }

  /** Takes one sample. */
  synchronized void sample() throws IOException {
    sizes().forEach((p, size) -> maxSeen.merge(p, size, Math::max));
  }

  /** Bytes written per component since the baseline (after a final sample). */
  synchronized Map<String, Long> growth() throws IOException {
    sample();
    final Map<String, Long> growth = new TreeMap<>();
    maxSeen.forEach(
        (p, size) ->
            growth.merge(
                component(dataDir.relativize(p)), size - baseline.getOrDefault(p, 0L), Long::sum));
    return growth;
  }

  private Map<Path, Long> sizes() throws IOException {
    final Map<Path, Long> sizes = new HashMap<>();
    final List<Path> indexes = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dataDir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        try {
          if (!Files.isRegularFile(p)) {
            continue;
          }
          if (isIndex(p)) {
            indexes.add(p);
          } else {
            sizes.put(p, Files.size(p));
          }
        } catch (IOException e) {
          // deleted while walking
        }
      }
    } catch (java.io.UncheckedIOException e) {
      // a directory vanished while walking: the next sample sees the rest
    }
    sizes.putAll(allocated(indexes));
    return sizes;
  }

  private static boolean isIndex(Path p) {
    final String name = p.getFileName().toString();
    return name.endsWith(".index") || name.endsWith(".timeindex");
  }

  /** Allocated bytes of sparse files, from {@code du -B1}. */
  private static Map<Path, Long> allocated(List<Path> files) throws IOException {
    final Map<Path, Long> sizes = new HashMap<>();
    if (files.isEmpty()) {
      return sizes;
    }
    final List<String> command = new ArrayList<>(List.of("du", "-B1", "--"));
    files.forEach(f -> command.add(f.toString()));
    final Process du = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (InputStream in = du.getInputStream()) {
      final String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      for (String line : out.split("\n")) {
        final String[] parts = line.split("\t", 2);
        if (parts.length == 2 && parts[0].matches("\\d+")) {
          sizes.put(Path.of(parts[1]), Long.parseLong(parts[0]));
        }
      }
    }
    try {
      du.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return sizes;
  }

  /** The component a data-directory file belongs to. */
  static String component(Path relative) {
    final String name = relative.getFileName().toString();
    final String top = relative.getName(0).toString();
    if (top.equals("log")) {
      if (name.endsWith(".log")) {
        return "partition-log";
      }
      if (name.endsWith(".timeindex")) {
        return "time-index";
      }
      if (name.endsWith(".index")) {
        return "offset-index";
      }
      return "partition-other";
    }
    if (top.equals("raft")) {
      if (name.startsWith("log_")) {
        return "raft-log";
      }
      if (relative.toString().contains("/sm/")) {
        return "snapshots";
      }
      return "raft-other";
    }
    return "other";
  }
}
