package org.apache.ratis.server.raftlog.segmented;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;

/** Reads what a division's Raft log segment files hold, as a restart would. */
public final class SegmentFiles {
  private static final int MAX_ENTRY_BYTES = 64 << 20;

  private SegmentFiles() {}

  /**
   * The largest entry index in the segment files of {@code storage}, open and closed, or {@link
   * RaftLog#INVALID_LOG_INDEX} if none holds an entry.
   */
  public static long lastIndexInSegmentFiles(RaftStorage storage) throws IOException {
    final File[] files = storage.getStorageDir().getCurrentDir().listFiles();
    final List<Long> indices = new ArrayList<>();
    for (File file : files == null ? new File[0] : files) {
      final Matcher open = LogSegmentStartEnd.getOpenSegmentPattern().matcher(file.getName());
      final Matcher closed = LogSegmentStartEnd.getClosedSegmentPattern().matcher(file.getName());
      final LogSegmentStartEnd startEnd;
      if (open.matches()) {
        startEnd = LogSegmentStartEnd.valueOf(Long.parseLong(open.group(1)));
      } else if (closed.matches()) {
        startEnd =
            LogSegmentStartEnd.valueOf(
                Long.parseLong(closed.group(1)), Long.parseLong(closed.group(2)));
      } else {
        continue;
      }
      LogSegment.readSegmentFile(
          file,
          startEnd,
          SizeInBytes.valueOf(MAX_ENTRY_BYTES),
          RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION,
          null,
          entry -> indices.add(entry.getIndex()));
    }
    long last = RaftLog.INVALID_LOG_INDEX;
    for (long index : indices) {
      last = Math.max(last, index);
    }
    return last;
  }
}
