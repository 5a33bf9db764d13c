package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileSystemSync} on this machine's real file systems (Linux: syncfs through JNA). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FileSystemSyncTest {
  private static final int THREADS = 32;
  private static final int SYNCS_PER_THREAD = 20;
  private static final LogConfig LOG_CONFIG = LogConfig.builder().build();

  @TempDir Path dir;

  @Test
  void concurrentSyncsShareRounds() throws Exception {
    try (FileSystemSync sync = open(List.of(dir))) {
      final List<Future<?>> done = new ArrayList<>();
      try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int t = 0; t < THREADS; t++) {
          final Path file = dir.resolve("file-" + t);
          done.add(
              threads.submit(
                  () -> {
                    try (FileChannel channel =
                        FileChannel.open(
                            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                      for (int i = 0; i < SYNCS_PER_THREAD; i++) {
                        channel.write(ByteBuffer.allocate(4096));
                        sync.sync();
                      }
                    }
                    return null;
                  }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      }
      assertThat(sync.requests()).isEqualTo(THREADS * SYNCS_PER_THREAD);
      assertThat(sync.rounds())
          .as("syncfs rounds for %d syncs from %d threads", sync.requests(), THREADS)
          .isPositive()
          .isLessThan(sync.requests());
    }
  }

  @Test
  void aSyncAloneRunsItsOwnRound() throws Exception {
    try (FileSystemSync sync = open(List.of(dir))) {
      Files.writeString(dir.resolve("a"), "a");
      sync.sync();
      Files.writeString(dir.resolve("b"), "b");
      sync.sync();
      assertThat(sync.rounds()).isEqualTo(2);
      assertThat(sync.requests()).isEqualTo(2);
    }
  }

  @Test
  void spacedRoundsStartAnIntervalApartAndSyncsArrivingMeanwhileShareOne() throws Exception {
    final long interval = TimeUnit.SECONDS.toNanos(3);
    final FileSystemSync spaced = FileSystemSync.open(List.of(dir), interval);
    assumeThat(spaced).as("syncfs is available (Linux)").isNotNull();
    try (FileSystemSync sync = spaced) {
      final long start = System.nanoTime();
      sync.sync(); // the first round does not wait
      final List<Future<?>> done = new ArrayList<>();
      try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int t = 0; t < 8; t++) {
          final Path file = dir.resolve("spaced-" + t);
          done.add(
              threads.submit(
                  () -> {
                    Files.writeString(file, "x");
                    sync.sync();
                    return null;
                  }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      }
      assertThat(System.nanoTime() - start)
          .as("the second round starts an interval after the first")
          .isGreaterThanOrEqualTo(interval);
      assertThat(sync.requests()).isEqualTo(9);
      assertThat(sync.rounds())
          .as("eight syncs arriving within the wait share one round")
          .isEqualTo(2);
    }
  }

  @Test
  void eachRoundReportsItsSyncfsTimeWithoutTheWaitForTheInterval() throws Exception {
    final long interval = TimeUnit.SECONDS.toNanos(3);
    final FileSystemSync spaced = FileSystemSync.open(List.of(dir), interval);
    assumeThat(spaced).as("syncfs is available (Linux)").isNotNull();
    final Queue<Long> times = new ConcurrentLinkedQueue<>();
    try (FileSystemSync sync = spaced) {
      sync.onRoundTime(times::add);
      Files.writeString(dir.resolve("a"), "a");
      sync.sync();
      Files.writeString(dir.resolve("b"), "b");
      final long start = System.nanoTime();
      sync.sync(); // waits out the rest of the interval, then runs its round
      final long waited = System.nanoTime() - start;
      assertThat(times).as("one time per round, told before the round's syncs return").hasSize(2);
      assertThat(times).allSatisfy(t -> assertThat(t).isPositive().isLessThan(interval));
      assertThat(waited).as("the second sync waited for the interval").isGreaterThan(interval / 2);
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aFailingRoundTimeListenerDoesNotStopTheRounds() throws Exception {
    try (FileSystemSync sync = open(List.of(dir))) {
      sync.onRoundTime(
          nanos -> {
            throw new IllegalStateException("listener bug");
          });
      Files.writeString(dir.resolve("a"), "a");
      sync.sync();
      Files.writeString(dir.resolve("b"), "b");
      sync.sync();
      assertThat(sync.rounds()).isEqualTo(2);
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void closeEndsARoundWaitingOutTheIntervalAndFailsItsSyncs() throws Exception {
    final FileSystemSync spaced = FileSystemSync.open(List.of(dir), TimeUnit.MINUTES.toNanos(10));
    assumeThat(spaced).as("syncfs is available (Linux)").isNotNull();
    spaced.sync(); // the first round does not wait; the next one would wait ten minutes
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      final Future<?> waiting =
          threads.submit(
              () -> {
                spaced.sync();
                return null;
              });
      while (spaced.requests() < 2) {
        Thread.sleep(1);
      }
      Thread.sleep(100); // into the wait

      final long start = System.nanoTime();
      spaced.close();
      assertThat(System.nanoTime() - start)
          .as("close does not wait out the interval")
          .isLessThan(TimeUnit.SECONDS.toNanos(10));
      assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(IOException.class)
          .hasMessageContaining("is closed");
      assertThat(spaced.rounds()).as("no syncfs after close").isEqualTo(1);
    }
    assertThatThrownBy(spaced::sync).isInstanceOf(IOException.class);
  }

  @Test
  void aNegativeIntervalIsRefused() {
    assertThatThrownBy(() -> FileSystemSync.open(List.of(dir), -1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aDescriptorClosedByOtherCodeFailsOneRoundAndIsOpenedAgain() throws Exception {
    try (FileSystemSync sync = open(List.of(dir))) {
      sync.sync();
      LibC.closeQuietly(sync.descriptor(0)); // what a profiler's double close did

      Files.writeString(dir.resolve("a"), "a");
      assertThatThrownBy(sync::sync)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("no longer refers to it")
          .hasMessageContaining("opened it again");
      Files.writeString(dir.resolve("b"), "b");
      sync.sync();
      sync.sync();
    }
  }

  @Test
  void aDescriptorNumberReusedForAnotherFileSystemIsNotSyncedAsIfItWereTheBrokers()
      throws Exception {
    final Path shm = Path.of("/dev/shm");
    assumeThat(Files.isDirectory(shm) && !Files.getFileStore(shm).equals(Files.getFileStore(dir)))
        .as("/dev/shm on a file system of its own")
        .isTrue();
    try (FileSystemSync sync = open(List.of(dir))) {
      final int fd = sync.descriptor(0);
      LibC.closeQuietly(fd);
      // The lowest free number goes to the next open: the broker's descriptor now names tmpfs,
      // where syncfs succeeds without syncing anything of the broker's.
      final int other = LibC.open(shm.toString(), 0x10000);
      try {
        assumeThat(other).as("the next open got the closed number").isEqualTo(fd);

        assertThatThrownBy(sync::sync)
            .isInstanceOf(IOException.class)
            .hasMessageContaining("descriptor " + fd + " of " + dir + " no longer refers to it");
        assertThat(sync.descriptor(0)).isNotEqualTo(fd);
        sync.sync();
      } finally {
        LibC.closeQuietly(other);
      }
    }
  }

  @Test
  void directoriesOnOneFileSystemShareOneDescriptor() throws Exception {
    final Path shm = Path.of("/dev/shm");
    assumeThat(Files.isDirectory(shm) && !Files.getFileStore(shm).equals(Files.getFileStore(dir)))
        .as("/dev/shm is a file system of its own")
        .isTrue();
    final Path other = Files.createTempDirectory(shm, "fs-sync");
    try (FileSystemSync sync =
        open(List.of(dir.resolve("raft"), dir.resolve("log"), other, other.resolve("more")))) {
      assertThat(sync.fileSystems()).isEqualTo(2);
      sync.sync();
      assertThat(sync.rounds()).isEqualTo(1);
    } finally {
      Files.deleteIfExists(other.resolve("more"));
      Files.deleteIfExists(other);
    }
  }

  /**
   * syncfs runs on a platform thread: on a virtual caller the native call would pin its carrier for
   * as long as the disk takes.
   */
  @Test
  void roundsRunOnAPlatformThreadThatEndsWithClose() throws Exception {
    final FileSystemSync sync = open(List.of(dir));
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      threads
          .submit(
              () -> {
                sync.sync();
                return null;
              })
          .get();
    }
    assertThat(sync.rounds()).isEqualTo(1);
    assertThat(sync.syncer().isVirtual()).isFalse();
    assertThat(sync.syncer().isAlive()).isTrue();
    sync.close();
    assertThat(sync.syncer().isAlive()).as("no thread left behind").isFalse();
  }

  @Test
  void syncsAfterCloseFail() throws Exception {
    final FileSystemSync sync = open(List.of(dir));
    sync.sync();
    sync.close();
    sync.close(); // twice is harmless
    assertThatThrownBy(sync::sync).isInstanceOf(IOException.class).hasMessageContaining("closed");
  }

  @Test
  void segmentedLogFlushesThroughIt() throws Exception {
    try (FileSystemSync sync = open(List.of(dir))) {
      try (SegmentedLog log = SegmentedLog.open(dir.resolve("p-0"), LOG_CONFIG)) {
        log.append(TestBatches.batch(0, 3, 100, 1_000L));
        log.flush(sync);
        assertThat(log.recoveryPoint()).isEqualTo(3);
      }
      assertThat(sync.rounds()).isEqualTo(1);
    }
  }

  private static FileSystemSync open(List<Path> dirs) throws IOException {
    final FileSystemSync sync = FileSystemSync.open(dirs);
    assumeThat(sync).as("syncfs is available (Linux)").isNotNull();
    return sync;
  }
}
