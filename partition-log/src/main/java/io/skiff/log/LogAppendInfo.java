package io.skiff.log;

/**
 * What an append wrote.
 *
 * @param firstOffset base offset of the first batch
 * @param lastOffset last offset of the last batch
 * @param maxTimestamp largest batch max timestamp among the appended batches, -1 if none
 * @param offsetOfMaxTimestamp base offset of the batch carrying {@code maxTimestamp}
 * @param batchCount number of batches
 * @param recordCount number of records, from the batch headers
 * @param sizeInBytes bytes appended to the segment file
 */
public record LogAppendInfo(
    long firstOffset,
    long lastOffset,
    long maxTimestamp,
    long offsetOfMaxTimestamp,
    int batchCount,
    int recordCount,
    int sizeInBytes) {

  /** The offset after the appended batches. */
  public long nextOffset() {
    return lastOffset + 1;
  }
}
