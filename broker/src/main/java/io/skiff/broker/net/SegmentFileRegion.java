package io.skiff.broker.net;

import io.netty.channel.DefaultFileRegion;
import java.nio.channels.FileChannel;

/**
 * A {@link DefaultFileRegion} over a partition log segment that does not close the file when
 * released: the segment's {@link FileChannel} belongs to the log and serves many fetches.
 *
 * <p>Being a {@code DefaultFileRegion}, it takes Netty's sendfile path on both the epoll and the
 * NIO transport, so record bytes go from the page cache to the socket without entering the heap.
 */
final class SegmentFileRegion extends DefaultFileRegion {
  SegmentFileRegion(FileChannel segment, long position, long count) {
    super(segment, position, count);
  }

  @Override
  protected void deallocate() {
    // The log owns the channel; closing it here would break every other reader of the segment.
  }
}
