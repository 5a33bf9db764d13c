package io.skiff.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/** Record batches built with Kafka's own client code, and temporary log directories. */
final class BenchSupport {
  /**
   * JVM options every forked benchmark JVM needs: Agrona reaches {@code jdk.internal.misc.Unsafe}
   * to unmap index files (the parent POM's {@code agrona.jvm.args}). Annotation values must be
   * constants, so it is spelled out here; keep it in step with the POM.
   */
  static final String ADD_EXPORTS = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";

  /**
   * JNA (madvise/mlock of index mappings) loads native code, which Java 24+ warns about unless
   * allowed (the parent POM's {@code native.jvm.args}); keep it in step with the POM.
   */
  static final String ENABLE_NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

  /** Fixed seed: every run appends and looks up the same bytes and offsets. */
  static final long SEED = 0x5c1ffL;

  private BenchSupport() {}

  /**
   * One uncompressed v2 batch of {@code records} records with {@code valueSize}-byte random values
   * and no keys, timestamps {@code firstTimestamp, firstTimestamp + 1, ...}. The buffer is a heap
   * buffer with position 0 and limit at the end of the batch.
   */
  static ByteBuffer batch(
      long baseOffset, int records, int valueSize, long firstTimestamp, SplittableRandom random) {
    final SimpleRecord[] simple = new SimpleRecord[records];
    for (int i = 0; i < records; i++) {
      final byte[] value = new byte[valueSize];
      random.nextBytes(value);
      simple[i] = new SimpleRecord(firstTimestamp + i, null, value);
    }
    return MemoryRecords.withRecords(baseOffset, Compression.NONE, simple).buffer();
  }

  /** A direct copy of {@code source} from its position to its limit; the source is unchanged. */
  static ByteBuffer directCopy(ByteBuffer source) {
    final ByteBuffer copy = ByteBuffer.allocateDirect(source.remaining());
    copy.put(source.duplicate()).flip();
    return copy;
  }

  static Path tempDir(String prefix) throws IOException {
    return Files.createTempDirectory(prefix);
  }

  /** Deletes {@code dir} and everything under it; a missing directory is fine. */
  static void deleteRecursively(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    final List<Path> paths;
    try (Stream<Path> walk = Files.walk(dir)) {
      paths = walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList());
    }
    for (Path path : paths) {
      Files.deleteIfExists(path);
    }
  }
}
