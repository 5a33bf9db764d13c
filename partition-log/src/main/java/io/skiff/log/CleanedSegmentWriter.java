package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a cleaned segment ({@code N.log.cleaned}) through one bounded, reused heap buffer, the
 * write half of the cleaner's {@code log.cleaner.io.buffer.size}: batches are gathered in the
 * buffer and written out when it is full, so a cleaned 1 GiB segment never sits in the heap. A
 * batch larger than the buffer is written straight from where it lies.
 *
 * <p>Use: {@link #start}, any number of {@link #reserve}/{@link #write}, then {@link #finish}
 * (flushed and fsynced) or {@link #abandon} (file deleted). Not thread-safe: one instance per pass;
 * it owns the open channel between {@code start} and {@code finish}/{@code abandon}.
 */
final class CleanedSegmentWriter {
  private final ByteBuffer standard;
  private ByteBuffer buffer;
  private FileChannel channel;
  private Path file;
  private long written;

  CleanedSegmentWriter(int capacity) {
    this.standard = ByteBuffer.allocate(Math.max(capacity, RecordBatch.HEADER_SIZE));
    this.buffer = standard;
  }

  /** Creates (or truncates) {@code path} and starts writing it. */
  void start(Path path) throws IOException {
    file = path;
    channel =
        FileChannel.open(
            path,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE);
    buffer = standard.clear();
    written = 0;
  }

  /**
   * A buffer with at least {@code bytes} free for the caller to put one batch into, at its
   * position; a batch larger than the standard buffer gets one of its own, once.
   */
  ByteBuffer reserve(int bytes) throws IOException {
    if (buffer.remaining() < bytes) {
      flush();
      if (buffer.capacity() < bytes) {
        buffer = ByteBuffer.allocate(bytes);
      }
    }
    return buffer;
  }

  /** Appends the bytes from {@code bytes}' position to its limit. */
  void write(ByteBuffer bytes) throws IOException {
    if (buffer.remaining() < bytes.remaining()) {
      flush();
    }
    if (buffer.remaining() < bytes.remaining()) {
      writeFully(bytes.duplicate());
    } else {
      buffer.put(bytes.duplicate());
    }
  }

  /**
   * Flushes and fsyncs the file and closes it.
   *
   * @return its size in bytes
   */
  long finish() throws IOException {
    try {
      flush();
      channel.force(true);
      return written;
    } finally {
      channel.close();
      channel = null;
    }
  }

  /** Closes and deletes the file: the segment did not change. */
  void abandon() throws IOException {
    try {
      channel.close();
    } finally {
      channel = null;
      Files.deleteIfExists(file);
    }
  }

  private void flush() throws IOException {
    buffer.flip();
    writeFully(buffer);
    buffer = standard.clear(); // a buffer grown for one large batch is dropped
  }

  private void writeFully(ByteBuffer bytes) throws IOException {
    while (bytes.hasRemaining()) {
      written += channel.write(bytes, written);
    }
  }
}
