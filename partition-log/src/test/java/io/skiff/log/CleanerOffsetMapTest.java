package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CleanerOffsetMapTest {
  private static ByteBuffer key(int i) {
    return ByteBuffer.wrap(("key-" + i).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void growsUpToItsBudgetAndKeepsTheLatestOffsetOfEveryKey() {
    final long budget = 1L << 20;
    final CleanerOffsetMap map = new CleanerOffsetMap(budget);
    final int keys = map.maxEntries();
    assertThat(keys).isEqualTo((int) (budget / CleanerOffsetMap.BYTES_PER_ENTRY * 0.9));
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < keys; i++) {
        assertThat(map.hasRoomFor(1) || round == 1).isTrue();
        map.put(key(i), round * 1_000_000L + i);
      }
    }
    map.put(key(7), 5); // an older offset never replaces a newer one

    assertThat(map.size()).isEqualTo(keys);
    assertThat(map.hasRoomFor(1)).isFalse();
    assertThat(map.heapBytes()).isLessThanOrEqualTo(budget);
    for (int i = 0; i < keys; i++) {
      assertThat(map.latestOffset(key(i))).isEqualTo(1_000_000L + i);
    }
    assertThat(map.latestOffset(key(keys))).isEqualTo(-1);
  }

  @Test
  void keysAreEqualByTheirBytesWhereverTheyLie() {
    final CleanerOffsetMap map = new CleanerOffsetMap(LogConfig.MIN_CLEANER_BUFFER_BYTES);
    final ByteBuffer framed = ByteBuffer.allocate(32).put(5, (byte) 'k').position(5).limit(6);
    map.put(framed, 9);
    assertThat(map.latestOffset(ByteBuffer.wrap(new byte[] {'k'}))).isEqualTo(9);
    assertThat(framed.position()).isEqualTo(5); // the caller's view is left as it was
  }

  @Test
  void refusesABudgetThatHoldsNoKey() {
    assertThatThrownBy(() -> new CleanerOffsetMap(CleanerOffsetMap.BYTES_PER_ENTRY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("raise it");
  }
}
