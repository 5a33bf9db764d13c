package io.skiff.log;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Package access for the benchmarks in {@code io.skiff.bench}: {@link OffsetIndex}'s constructor is
 * package-private and {@link SegmentedLog} does not expose its segments, so the raw index lookup is
 * measured on an index file opened here. Lives in the bench module only.
 */
public final class BenchAccess {
  private BenchAccess() {}

  /**
   * Opens an existing offset index file as an inactive index (mapped at its current length, so the
   * file must hold exactly its entries, as after a clean close). Use it for lookups only and close
   * it when done.
   */
  public static OffsetIndex openOffsetIndex(Path file, long baseOffset) throws IOException {
    return new OffsetIndex(
        file, baseOffset, OffsetIndex.ENTRY_SIZE * 8, false, IndexMemoryBudget.unlimited());
  }
}
