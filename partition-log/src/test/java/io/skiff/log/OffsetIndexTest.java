package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OffsetIndexTest {
  @TempDir Path dir;
  private final IndexMemoryBudget budget = IndexMemoryBudget.unlimited();

  @Test
  void looksUpTheLargestEntryAtOrBelowTheOffset() throws IOException {
    try (OffsetIndex index = new OffsetIndex(dir.resolve("a.index"), 1000, 800, true, budget)) {
      assertThat(index.lookup(1500)).isZero();
      for (int i = 1; i <= 50; i++) {
        index.append(1000 + i * 10L, i * 4096);
      }
      assertThat(index.lookup(999)).isZero();
      assertThat(index.lookup(1009)).isZero();
      assertThat(index.lookup(1010)).isEqualTo(4096);
      assertThat(index.lookup(1011)).isEqualTo(4096);
      assertThat(index.lookup(1259)).isEqualTo(25 * 4096);
      assertThat(index.lookup(Long.MAX_VALUE)).isEqualTo(50 * 4096);
    }
  }

  @Test
  void preallocatesThenTrimsToItsEntries() throws IOException {
    final Path file = dir.resolve("b.index");
    final OffsetIndex index = new OffsetIndex(file, 0, 800, true, budget);
    assertThat(Files.size(file)).isEqualTo(800);
    assertThat(index.maxEntries()).isEqualTo(100);
    index.append(5, 100);
    index.append(9, 200);
    index.close();
    assertThat(Files.size(file)).isEqualTo(16);

    try (OffsetIndex reopened = new OffsetIndex(file, 0, 800, false, budget)) {
      assertThat(reopened.entries()).isEqualTo(2);
      assertThat(reopened.lookup(9)).isEqualTo(200);
      assertThat(reopened.sanityCheck(1000)).isTrue();
      assertThat(reopened.sanityCheck(150)).isFalse();
    }
  }

  @Test
  void refusesOffsetsThatDoNotIncrease() throws IOException {
    try (OffsetIndex index = new OffsetIndex(dir.resolve("c.index"), 0, 800, true, budget)) {
      index.append(10, 100);
      assertThatThrownBy(() -> index.append(10, 200)).hasMessageContaining("not after");
    }
  }

  @Test
  void truncatesEntriesAtOrAfterAnOffset() throws IOException {
    try (OffsetIndex index = new OffsetIndex(dir.resolve("d.index"), 100, 800, true, budget)) {
      for (int i = 1; i <= 10; i++) {
        index.append(100 + i * 10L, i * 1000);
      }
      index.truncateTo(150);
      assertThat(index.entries()).isEqualTo(4);
      assertThat(index.lookup(Long.MAX_VALUE)).isEqualTo(4000);
      index.truncateTo(50);
      assertThat(index.entries()).isZero();
    }
  }

  @Test
  void detectsAZeroPaddedTail() throws IOException {
    final Path file = dir.resolve("e.index");
    final OffsetIndex index = new OffsetIndex(file, 0, 800, true, budget);
    index.append(5, 100);
    index.append(9, 200);
    index.flush();
    // An unclean stop leaves the preallocated file untrimmed: zeros after the entries.
    index.close();
    try (var channel =
        java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.allocate(24), 16);
    }
    try (OffsetIndex reopened = new OffsetIndex(file, 0, 800, false, budget)) {
      assertThat(reopened.entries()).isEqualTo(5);
      assertThat(reopened.sanityCheck(10_000)).isFalse();
    }
  }

  @Test
  void timeIndexKeepsOnlyGrowingTimestamps() throws IOException {
    try (TimeIndex index = new TimeIndex(dir.resolve("f.timeindex"), 100, 120, true, budget)) {
      assertThat(index.lookup(5)).isEqualTo(new TimestampOffset(-1, 100));
      index.maybeAppend(1000, 100, false);
      index.maybeAppend(900, 110, false);
      index.maybeAppend(2000, 120, false);
      assertThat(index.entries()).isEqualTo(2);
      assertThat(index.lookup(1500)).isEqualTo(new TimestampOffset(1000, 100));
      assertThat(index.lookup(2000)).isEqualTo(new TimestampOffset(2000, 120));
      assertThat(index.lastEntry()).isEqualTo(new TimestampOffset(2000, 120));
      index.truncateTo(120);
      assertThat(index.lastEntry()).isEqualTo(new TimestampOffset(1000, 100));
      for (long t = 3000; !index.isFull(); t += 1000) {
        index.maybeAppend(t, 200, false);
      }
      assertThatThrownBy(() -> index.maybeAppend(99_999, 300, false)).hasMessageContaining("full");
      index.maybeAppend(99_999, 300, true); // the slot kept for the roll-time entry
      assertThat(index.lastEntry()).isEqualTo(new TimestampOffset(99_999, 300));
    }
  }
}
