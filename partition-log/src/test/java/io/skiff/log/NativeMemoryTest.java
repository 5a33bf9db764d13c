package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.agrona.IoUtil;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native hints against the real kernel: locks show in {@code VmLck} of {@code
 * /proc/self/status} and leave it when the index is rolled, unmapped or closed; failures and the
 * cap degrade to no lock, never to an exception.
 */
class NativeMemoryTest {
  private static final int INDEX_BYTES = 256 * 1024;

  @TempDir Path dir;

  private static boolean linux() {
    return System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux");
  }

  /** Locked memory of this process in bytes, from /proc/self/status. */
  private static long vmLckBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmLck:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmLck line in /proc/self/status");
  }

  private IndexMemoryBudget budget(long mlockMaxBytes) {
    return new IndexMemoryBudget(Long.MAX_VALUE, NativeMemory.create(true, mlockMaxBytes));
  }

  @Test
  void locksTheActiveIndexAndUnlocksItWhenDeactivated() throws IOException {
    assumeTrue(linux(), "mlock is bound on Linux only");
    final IndexMemoryBudget budget = budget(NativeMemory.DEFAULT_MLOCK_MAX_BYTES);
    final NativeMemory nm = budget.nativeMemory();
    final long before = vmLckBytes();
    final OffsetIndex index = new OffsetIndex(dir.resolve("a.index"), 0, INDEX_BYTES, true, budget);
    assertThat(nm.lockEnabled()).as("mlock failed; see the warning in the log").isTrue();
    assertThat(index.lockedBytes()).isEqualTo(INDEX_BYTES);
    assertThat(nm.lockedBytes()).isEqualTo(INDEX_BYTES);
    assertThat(vmLckBytes() - before).isGreaterThanOrEqualTo(INDEX_BYTES);
    for (int i = 1; i <= 100; i++) {
      index.append(i * 10L, i * 4096);
    }

    index.deactivate();
    assertThat(index.lockedBytes()).isZero();
    assertThat(nm.lockedBytes()).isZero();
    assertThat(vmLckBytes()).isEqualTo(before);
    assertThat(index.lookup(505)).isEqualTo(50 * 4096);

    index.activate(INDEX_BYTES);
    assertThat(nm.lockedBytes()).isEqualTo(INDEX_BYTES);
    assertThat(vmLckBytes() - before).isGreaterThanOrEqualTo(INDEX_BYTES);
    index.close();
    assertThat(nm.lockedBytes()).isZero();
    assertThat(vmLckBytes()).isEqualTo(before);
    assertThat(nm.failures()).isZero();
  }

  @Test
  void rollAndCloseOfALogReturnLockedBytesToZero() throws IOException {
    assumeTrue(linux(), "mlock is bound on Linux only");
    final IndexMemoryBudget budget = budget(NativeMemory.DEFAULT_MLOCK_MAX_BYTES);
    final NativeMemory nm = budget.nativeMemory();
    final long before = vmLckBytes();
    final LogConfig config =
        LogConfig.builder().segmentBytes(4096).indexIntervalBytes(256).maxIndexBytes(8192).build();
    try (SegmentedLog log = SegmentedLog.open(dir, config, budget, SystemEpochClock.INSTANCE)) {
      // Offset index 8192 bytes, time index 8184 (a multiple of 12): both of the active segment.
      final long activeLocked = 8192 + 8184;
      assertThat(nm.lockedBytes()).isEqualTo(activeLocked);
      for (int i = 0; i < 200; i++) {
        log.append(TestBatches.batch(log.logEndOffset(), 2, 100, 1_000 + i));
      }
      assertThat(log.segmentCount()).isGreaterThan(5);
      assertThat(nm.lockedBytes()).isEqualTo(activeLocked);
      assertThat(vmLckBytes() - before).isBetween(activeLocked, activeLocked + 2 * 4096);
      assertThat(nm.calls()).isGreaterThan(2L * log.segmentCount());
    }
    assertThat(nm.lockedBytes()).isZero();
    assertThat(vmLckBytes()).isEqualTo(before);
    assertThat(nm.failures()).isZero();
  }

  @Test
  void skipsLocksPastTheCapAndCountsThem() throws IOException {
    final IndexMemoryBudget budget = budget(INDEX_BYTES + INDEX_BYTES / 2);
    final NativeMemory nm = budget.nativeMemory();
    try (OffsetIndex first = new OffsetIndex(dir.resolve("a.index"), 0, INDEX_BYTES, true, budget);
        OffsetIndex second =
            new OffsetIndex(dir.resolve("b.index"), 0, INDEX_BYTES, true, budget)) {
      assumeTrue(nm.lockEnabled(), "mlock is not available here");
      assertThat(first.lockedBytes()).isEqualTo(INDEX_BYTES);
      assertThat(second.lockedBytes()).isZero();
      assertThat(nm.lockSkips()).isEqualTo(1);
      assertThat(nm.lockedBytes()).isEqualTo(INDEX_BYTES);
      second.append(7, 100);
      assertThat(second.lookup(8)).isEqualTo(100);
      first.deactivate();
      // Room again: the next mapping of an active index locks.
      second.deactivate();
      second.activate(INDEX_BYTES);
      assertThat(second.lockedBytes()).isEqualTo(INDEX_BYTES);
    }
    assertThat(nm.lockedBytes()).isZero();
  }

  @Test
  void evictedAndRemappedIndexesAreAdvisedButNotLocked() throws IOException {
    final IndexMemoryBudget budget =
        new IndexMemoryBudget(
            2L * INDEX_BYTES, NativeMemory.create(true, NativeMemory.DEFAULT_MLOCK_MAX_BYTES));
    final NativeMemory nm = budget.nativeMemory();
    try (OffsetIndex cold = new OffsetIndex(dir.resolve("a.index"), 0, INDEX_BYTES, true, budget)) {
      for (int i = 1; i <= 1000; i++) {
        cold.append(i, i * 100);
      }
      cold.deactivate();
      assertThat(cold.tryUnmap()).isPositive();
      assertThat(nm.lockedBytes()).isZero();
      final long calls = nm.calls();
      assertThat(cold.lookup(500)).isEqualTo(500 * 100);
      assumeTrue(nm.adviseEnabled(), "madvise is not available here");
      assertThat(nm.calls()).isEqualTo(calls + 1); // the remap's WILLNEED, no lock
      assertThat(cold.lockedBytes()).isZero();
    }
    assertThat(nm.lockedBytes()).isZero();
    assertThat(nm.failures()).isZero();
  }

  @Test
  void aClosedIndexLocksNothingAndDoesNotThrow() throws IOException {
    final IndexMemoryBudget budget = budget(NativeMemory.DEFAULT_MLOCK_MAX_BYTES);
    final OffsetIndex index = new OffsetIndex(dir.resolve("a.index"), 0, INDEX_BYTES, true, budget);
    index.close();
    index.activate(INDEX_BYTES);
    index.close();
    assertThat(index.lockedBytes()).isZero();
    assertThat(budget.nativeMemory().lockedBytes()).isZero();
  }

  @Test
  void aFailingLockTurnsLockingOffWithoutThrowing() throws IOException {
    assumeTrue(linux(), "mlock is bound on Linux only");
    final NativeMemory nm = NativeMemory.create(true, NativeMemory.DEFAULT_MLOCK_MAX_BYTES);
    final MappedByteBuffer gone;
    try (FileChannel channel =
        FileChannel.open(
            dir.resolve("gone"),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      channel.truncate(1 << 20);
      gone = channel.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20);
    }
    IoUtil.unmap(gone);
    // Only the address is handed to the kernel: mlock of an unmapped range fails with ENOMEM.
    assertThat(nm.lock(gone, 1 << 20)).isZero();
    assertThat(nm.failures()).isEqualTo(1);
    assertThat(nm.lockedBytes()).isZero();
    assertThat(nm.lockEnabled()).isFalse();
    assertThat(nm.lock(gone, 1 << 20)).isZero();
    assertThat(nm.calls()).isEqualTo(1);
  }

  @Test
  void disabledHintsMakeNoCalls() throws IOException {
    final IndexMemoryBudget budget = new IndexMemoryBudget(Long.MAX_VALUE, NativeMemory.disabled());
    try (OffsetIndex index =
        new OffsetIndex(dir.resolve("a.index"), 0, INDEX_BYTES, true, budget)) {
      index.append(1, 1);
      index.deactivate();
    }
    assertThat(budget.nativeMemory().calls()).isZero();
    assertThat(budget.nativeMemory().lockEnabled()).isFalse();
    assertThat(IndexMemoryBudget.unlimited().nativeMemory().adviseEnabled()).isFalse();
  }

  @Test
  void readsItsSettings() {
    assertThat(NativeMemory.fromProperties(Map.of()).mlockMaxBytes())
        .isEqualTo(NativeMemory.DEFAULT_MLOCK_MAX_BYTES);
    final NativeMemory off =
        NativeMemory.fromProperties(Map.of(NativeMemory.NATIVE_HINTS, "false"));
    assertThat(off.adviseEnabled()).isFalse();
    assertThat(off.lockEnabled()).isFalse();
    final NativeMemory noLock =
        NativeMemory.fromProperties(Map.of(NativeMemory.MLOCK_MAX_BYTES, "0"));
    assertThat(noLock.lockEnabled()).isFalse();
    assertThatThrownBy(() -> NativeMemory.fromProperties(Map.of(NativeMemory.NATIVE_HINTS, "yes")))
        .hasMessageContaining(NativeMemory.NATIVE_HINTS);
    assertThatThrownBy(
            () -> NativeMemory.fromProperties(Map.of(NativeMemory.MLOCK_MAX_BYTES, "-1")))
        .hasMessageContaining(NativeMemory.MLOCK_MAX_BYTES);
    assertThatThrownBy(
            () -> NativeMemory.fromProperties(Map.of(NativeMemory.MLOCK_MAX_BYTES, "64M")))
        .hasMessageContaining(NativeMemory.MLOCK_MAX_BYTES);
  }
}
