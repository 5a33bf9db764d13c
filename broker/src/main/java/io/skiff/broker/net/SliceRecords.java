package io.skiff.broker.net;

import io.skiff.log.FetchSlice;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

/**
 * A fetch response's records as a zero-copy {@link FetchSlice} of a segment file. Kafka's message
 * classes see only its size; {@link ResponseWriter} turns it into a {@link SegmentFileRegion} when
 * the response is written.
 */
public final class SliceRecords implements BaseRecords {
  private final FetchSlice slice;

  public SliceRecords(FetchSlice slice) {
    this.slice = slice;
  }

  public FetchSlice slice() {
    return slice;
  }

  @Override
  public int sizeInBytes() {
    return slice.length();
  }

  @Override
  public RecordsSend<? extends BaseRecords> toSend() {
    throw new UnsupportedOperationException(
        "SliceRecords are written by ResponseWriter as a file region, not as a Kafka Send");
  }
}
