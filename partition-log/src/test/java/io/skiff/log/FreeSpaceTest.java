package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * When the free-space check asks the file system and when it reuses the last answer. A scripted
 * file system stands in for {@code statfs} here; {@link DiskFullTest} checks the real one on a full
 * tmpfs.
 */
class FreeSpaceTest {
  private static final long GIB = 1L << 30;
  private static final long RESERVE = SegmentedLog.MIN_FREE_BYTES;

  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final AtomicLong disk = new AtomicLong(10 * GIB);
  private final AtomicLong reads = new AtomicLong();
  private final FreeSpace space =
      new FreeSpace(
          () -> {
            reads.incrementAndGet();
            return disk.get();
          },
          clock::get);

  @Test
  void farFromFullTheAnswerIsReusedLessWhatWasTaken() throws IOException {
    assertThat(space.take(16_000, RESERVE)).isEqualTo(10 * GIB);
    disk.addAndGet(-GIB); // another writer: not seen until the next read
    for (int i = 1; i <= 100; i++) {
      clock.addAndGet(FreeSpace.REFRESH_NANOS / 200);
      assertThat(space.take(16_000, RESERVE)).isEqualTo(10 * GIB - i * 16_000L);
    }
    assertThat(reads).hasValue(1);
  }

  @Test
  void anAnswerOlderThanTheRefreshIntervalIsReadAgain() throws IOException {
    space.take(16_000, RESERVE);
    disk.set(3 * GIB);
    clock.addAndGet(FreeSpace.REFRESH_NANOS);
    assertThat(space.take(16_000, RESERVE)).isEqualTo(3 * GIB);
    assertThat(reads).hasValue(2);
  }

  @Test
  void nearTheLimitEveryCheckAsksTheFileSystem() throws IOException {
    final long near = RESERVE + FreeSpace.MARGIN_BYTES + 20_000;
    disk.set(near);
    assertThat(space.take(16_000, RESERVE)).isEqualTo(near);
    assertThat(space.take(16_000, RESERVE)).isEqualTo(near);
    assertThat(reads).as("the second check would enter the margin").hasValue(2);

    disk.set(RESERVE + 15_999);
    assertThat(space.take(16_000, RESERVE)).isEqualTo(RESERVE + 15_999);
    disk.set(RESERVE + 16_000);
    assertThat(space.take(16_000, RESERVE)).isEqualTo(RESERVE + 16_000);
    assertThat(reads).hasValue(4);
  }

  @Test
  void aRefusedCheckTakesNothing() throws IOException {
    disk.set(RESERVE + 10_000);
    assertThat(space.take(16_000, RESERVE)).isLessThan(16_000 + RESERVE);
    disk.set(RESERVE + FreeSpace.MARGIN_BYTES + 100_000);
    assertThat(space.take(16_000, RESERVE)).isEqualTo(RESERVE + FreeSpace.MARGIN_BYTES + 100_000);
    assertThat(space.take(16_000, RESERVE))
        .as("the refused 16 000 bytes were never counted")
        .isEqualTo(RESERVE + FreeSpace.MARGIN_BYTES + 84_000);
    assertThat(reads).hasValue(2);
  }

  @Test
  void aFailedReadIsNotRemembered() throws IOException {
    final AtomicLong calls = new AtomicLong();
    final FreeSpace failing =
        new FreeSpace(
            () -> {
              if (calls.incrementAndGet() == 1) {
                throw new IOException("statfs failed");
              }
              return 10 * GIB;
            },
            clock::get);
    assertThatThrownBy(() -> failing.take(16_000, RESERVE)).hasMessage("statfs failed");
    assertThat(failing.take(16_000, RESERVE)).isEqualTo(10 * GIB);
  }
}
