package io.skiff.log;

/**
 * What the log cleaner has done to one log since it was opened, for metrics (Kafka's {@code
 * kafka.log:type=LogCleaner} and {@code LogCleanerManager} beans). Immutable.
 *
 * @param passes cleaner passes that rewrote or checked segments
 * @param bytesRead bytes of segments the passes read to rewrite them
 * @param bytesWritten bytes of the segments they left (unchanged ones included)
 * @param recordsRemoved records removed as superseded or as expired tombstones
 * @param dirtyRatio the dirty share measured by the last check, before its pass if one ran
 */
public record CleanerStats(
    long passes, long bytesRead, long bytesWritten, long recordsRemoved, double dirtyRatio) {
  /** A log the cleaner has not looked at. */
  public static final CleanerStats NONE = new CleanerStats(0, 0, 0, 0, 0);

  CleanerStats withDirtyRatio(double ratio) {
    return new CleanerStats(passes, bytesRead, bytesWritten, recordsRemoved, ratio);
  }

  CleanerStats plus(LogCleaner.Result pass) {
    return new CleanerStats(
        passes + 1,
        bytesRead + pass.bytesBefore(),
        bytesWritten + pass.bytesAfter(),
        recordsRemoved + pass.recordsRemoved(),
        dirtyRatio);
  }
}
