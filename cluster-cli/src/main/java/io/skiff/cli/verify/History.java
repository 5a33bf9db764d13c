package io.skiff.cli.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The operations of one verification run in the order they were recorded. {@link #record} stamps
 * each operation with its index and the time since the history began, so the index order is a real
 * time order: an operation recorded after another completed began after it.
 *
 * <p>Thread-safe: clients, consumers and the nemesis record concurrently; {@link #ops()} is a
 * snapshot. Stored as JSON lines, one {@link Op} per line.
 */
public final class History {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final long startNanos = System.nanoTime();
  private final List<Op> ops = new ArrayList<>();

  /** Records {@code op} now; returns it stamped. */
  public Op record(Op op) {
    synchronized (ops) {
      final Op stamped = op.stamped(ops.size(), System.nanoTime() - startNanos);
      ops.add(stamped);
      return stamped;
    }
  }

  /** Every operation recorded so far, in order. */
  public List<Op> ops() {
    synchronized (ops) {
      return List.copyOf(ops);
    }
  }

  /** Writes the history as JSON lines. */
  public void write(Path file) throws IOException {
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (Op op : ops()) {
        out.write(JSON.writeValueAsString(op));
        out.newLine();
      }
    }
  }

  /** Reads a history written by {@link #write}. */
  public static List<Op> read(Path file) throws IOException {
    final List<Op> read = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (!line.isBlank()) {
          read.add(JSON.readValue(line, Op.class));
        }
      }
    }
    return read;
  }
}
