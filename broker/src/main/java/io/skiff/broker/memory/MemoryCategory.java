package io.skiff.broker.memory;

import java.util.function.LongSupplier;

/**
 * One category of the memory profile as {@code /v1/memory} reports it: what it uses now against its
 * budget, and what an operator can do when it runs short.
 *
 * @param name the category, as the report names it ("index mmap", "offset cache", ...)
 * @param unit {@code bytes} or {@code count}
 * @param used what it uses now
 * @param budget its limit; -1 when it has none of its own
 * @param remedy what to do, besides a bigger tier, when it nears the limit ("lower retention");
 *     null for a category whose limit is harmless to reach (no advice)
 */
public record MemoryCategory(
    String name, String unit, LongSupplier used, LongSupplier budget, String remedy) {
  public static final String BYTES = "bytes";
  public static final String COUNT = "count";

  public static MemoryCategory bytes(
      String name, LongSupplier used, LongSupplier budget, String remedy) {
    return new MemoryCategory(name, BYTES, used, budget, remedy);
  }

  /** A category reported against its cap without advice: reaching the cap costs nothing. */
  public static MemoryCategory capped(String name, LongSupplier used, LongSupplier cap) {
    return new MemoryCategory(name, BYTES, used, cap, null);
  }

  public static MemoryCategory count(
      String name, LongSupplier used, LongSupplier budget, String remedy) {
    return new MemoryCategory(name, COUNT, used, budget, remedy);
  }
}
