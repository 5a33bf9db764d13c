package org.apache.ratis.server.raftlog.segmented;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto.LogEntryBodyCase;
import org.apache.ratis.proto.RaftProtos.MetadataProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.segmented.LogSegment.LogRecord;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;

/**
 * A log segment's records (Ratis patch 0022: primitive arrays instead of a map of objects, and
 * term-index look-ups without a record) and its cache trimming (patch 0021), against a list kept
 * alongside: every record has its entry's index, term, body case and file offset, through appends
 * that grow the arrays, a truncation and a trim.
 */
class LogSegmentRecordsTest {
  private static final SizeInBytes MAX_OP = SizeInBytes.valueOf("1MB");

  /** What an appended entry's record must say. */
  private record Expected(long index, long term, LogEntryBodyCase bodyCase, long offset) {}

  @Property(tries = 200)
  void recordsMatchTheAppendedEntriesThroughTruncationAndTrim(
      @ForAll @IntRange(min = 0, max = 5_000) int start,
      @ForAll("entries") List<LogEntryBodyCase> bodies,
      @ForAll @IntRange(min = 0, max = 3) int termStep,
      @ForAll @IntRange(min = 0, max = 100) int truncatePercent,
      @ForAll @IntRange(min = 0, max = 100) int trimPercent) {
    final LogSegment segment = LogSegment.newOpenSegment(null, start, MAX_OP, null);
    final List<Expected> expected = new ArrayList<>();
    long term = 1;
    for (int i = 0; i < bodies.size(); i++) {
      if (termStep > 0 && i % (termStep * 17 + 1) == 0) {
        term++;
      }
      final long index = start + i;
      expected.add(new Expected(index, term, bodies.get(i), segment.getTotalFileSize()));
      segment.appendToOpenSegment(
          entry(term, index, bodies.get(i)),
          LogSegment.Op.WRITE_CACHE_WITHOUT_STATE_MACHINE_CACHE,
          true);
    }
    assertRecords(segment, start, expected);

    final long trimTo = start - 1 + (long) expected.size() * trimPercent / 100;
    segment.trimCache(trimTo);
    for (Expected e : expected) {
      final TermIndex ti = TermIndex.valueOf(e.term(), e.index());
      assertThat(segment.getEntryFromCache(ti) == null)
          .as("entry %d trimmed (trimmed up to %d)", e.index(), trimTo)
          .isEqualTo(e.index() <= trimTo);
    }

    if (!expected.isEmpty()) {
      final int keep = (int) ((long) expected.size() * truncatePercent / 100);
      if (keep < expected.size()) {
        segment.truncate(start + keep);
        expected.subList(keep, expected.size()).clear();
        assertRecords(segment, start, expected);
      }
    }
  }

  /**
   * Readers running beside appends (and the arrays' growth) never see a record that is not its
   * entry's.
   */
  @Example
  void concurrentReadersSeeOnlyWholeRecords() throws Exception {
    final int start = 100;
    final int count = 200_000;
    final LogSegment segment = LogSegment.newOpenSegment(null, start, MAX_OP, null);
    final AtomicBoolean done = new AtomicBoolean();
    final AtomicReference<String> wrong = new AtomicReference<>();
    final CompletableFuture<Long> reader =
        CompletableFuture.supplyAsync(
            () -> {
              long seen = 0;
              while (!done.get() && wrong.get() == null) {
                final long end = segment.getEndIndex();
                for (long index = Math.max(start, end - 64); index <= end; index++) {
                  final LogRecord record = segment.getLogRecord(index);
                  final TermIndex termIndex = segment.getTermIndex(index);
                  if (record == null
                      || record.getTermIndex().getIndex() != index
                      || record.getTermIndex().getTerm() != termOf(index)
                      || record.getLogEntryHeader().getLogEntryBodyCase() != bodyOf(index)
                      || !TermIndex.valueOf(termOf(index), index).equals(termIndex)) {
                    wrong.set(
                        "index " + index + " (end " + end + "): " + record + ", " + termIndex);
                  }
                  seen++;
                }
              }
              return seen;
            });
    for (long index = start; index < start + count; index++) {
      segment.appendToOpenSegment(
          entry(termOf(index), index, bodyOf(index)),
          LogSegment.Op.WRITE_CACHE_WITHOUT_STATE_MACHINE_CACHE,
          true);
      if (index % 64 == 0) {
        segment.trimCache(index - 32);
      }
    }
    done.set(true);
    assertThat(reader.get(60, TimeUnit.SECONDS)).isPositive();
    assertThat(wrong.get()).isNull();
    assertThat(segment.getEndIndex()).isEqualTo(start + count - 1L);
  }

  @Provide
  Arbitrary<List<LogEntryBodyCase>> entries() {
    return Arbitraries.of(
            LogEntryBodyCase.STATEMACHINELOGENTRY,
            LogEntryBodyCase.CONFIGURATIONENTRY,
            LogEntryBodyCase.METADATAENTRY)
        .list()
        .ofMaxSize(700);
  }

  private static void assertRecords(LogSegment segment, int start, List<Expected> expected) {
    assertThat(segment.getEndIndex()).isEqualTo(start - 1L + expected.size());
    assertThat(segment.getLogRecord(start - 1L)).isNull();
    assertThat(segment.getLogRecord(start + (long) expected.size())).isNull();
    assertThat(segment.getTermIndex(start - 1L)).isNull();
    assertThat(segment.getTermIndex(start + (long) expected.size())).isNull();
    for (Expected e : expected) {
      final LogRecord record = segment.getLogRecord(e.index());
      assertThat(record).as("record %d", e.index()).isNotNull();
      assertThat(record.getTermIndex()).isEqualTo(TermIndex.valueOf(e.term(), e.index()));
      assertThat(segment.getTermIndex(e.index())).isEqualTo(record.getTermIndex());
      assertThat(record.getLogEntryHeader().getLogEntryBodyCase()).isEqualTo(e.bodyCase());
      assertThat(record.getOffset()).isEqualTo(e.offset());
    }
    if (expected.isEmpty()) {
      assertThat(segment.getLastTermIndex()).isNull();
    } else {
      assertThat(segment.getLastTermIndex())
          .isEqualTo(TermIndex.valueOf(expected.getLast().term(), expected.getLast().index()));
    }
  }

  private static long termOf(long index) {
    return 1 + index / 1000;
  }

  private static LogEntryBodyCase bodyOf(long index) {
    return index % 5 == 0 ? LogEntryBodyCase.METADATAENTRY : LogEntryBodyCase.STATEMACHINELOGENTRY;
  }

  private static LogEntryProto entry(long term, long index, LogEntryBodyCase body) {
    final LogEntryProto.Builder b = LogEntryProto.newBuilder().setTerm(term).setIndex(index);
    switch (body) {
      case STATEMACHINELOGENTRY ->
          b.setStateMachineLogEntry(
              StateMachineLogEntryProto.newBuilder()
                  .setLogData(ByteString.copyFromUtf8("e" + index)));
      case CONFIGURATIONENTRY ->
          b.setConfigurationEntry(RaftConfigurationProto.getDefaultInstance());
      case METADATAENTRY -> b.setMetadataEntry(MetadataProto.newBuilder().setCommitIndex(index));
      default -> throw new IllegalArgumentException("body " + body);
    }
    return b.build();
  }
}
