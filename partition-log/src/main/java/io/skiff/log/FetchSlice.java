package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A zero-copy view of whole record batches in one segment file: {@code length} bytes of {@code
 * channel} from {@code position}, starting with the batch that holds {@code firstOffset} and ending
 * at a batch boundary just before {@code nextOffset}.
 *
 * <p>The channel belongs to the log; do not close it. It stays open for at least {@code
 * file.delete.delay.ms} after its segment is deleted, so a slice taken before a deletion can still
 * be sent.
 *
 * @param channel the segment file, positioned reads only
 * @param position byte position of the first batch in the file
 * @param length bytes of whole batches; 0 for an empty slice
 * @param firstOffset base offset of the first batch (may be below the offset asked for when that
 *     offset lies inside a batch, as in Kafka), or the offset asked for when empty
 * @param nextOffset the offset to fetch next: one past the last batch in the slice
 */
public record FetchSlice(
    FileChannel channel, long position, int length, long firstOffset, long nextOffset) {

  /** A slice with no bytes, for a read at the log end or the high watermark. */
  public static FetchSlice empty(long offset) {
    return new FetchSlice(null, 0, 0, offset, offset);
  }

  public boolean isEmpty() {
    return length == 0;
  }

  /**
   * Copies the slice into a new heap buffer, for the paths that must hand bytes to a library that
   * wants them in memory (Raft replication); the fetch path uses {@link #transferTo} instead.
   *
   * @throws IOException if the segment file ends before the slice does (it was truncated)
   */
  public ByteBuffer copyToHeap() throws IOException {
    final ByteBuffer bytes = ByteBuffer.allocate(length);
    while (bytes.hasRemaining()) {
      if (channel.read(bytes, position + bytes.position()) < 0) {
        throw new IOException(
            "segment file ended at "
                + (position + bytes.position())
                + " inside a slice ending at "
                + (position + length));
      }
    }
    return bytes.flip();
  }

  /**
   * Sends the slice to {@code target} with {@link FileChannel#transferTo} (sendfile on Linux), so
   * the bytes go from the page cache to the socket without entering the heap.
   *
   * @return bytes transferred: {@link #length()} on a blocking channel; possibly fewer on a
   *     non-blocking one whose buffer is full (send the rest when it is writable again)
   */
  public long transferTo(WritableByteChannel target) throws IOException {
    long sent = 0;
    while (sent < length) {
      final long n = channel.transferTo(position + sent, length - sent, target);
      if (n <= 0) {
        if (channel.size() < position + length) {
          throw new IOException(
              "segment file shrank below the slice end " + (position + length) + " while sending");
        }
        break;
      }
      sent += n;
    }
    return sent;
  }
}
