package io.skiff.broker.group;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetCacheTest {
  private final MetricRegistry metrics = new MetricRegistry();
  private final OffsetCache cache = new OffsetCache(3, metrics);

  private static TopicPartition tp(int p) {
    return new TopicPartition("t", p);
  }

  private static CommittedOffset at(long offset, long time) {
    return new CommittedOffset(offset, -1, "", time);
  }

  @Test
  void refusesNewKeysBeyondItsMaximumButAlwaysAdmitsUpdates() {
    assertThat(cache.admits("g", List.of(tp(0), tp(1), tp(2)))).isTrue();
    List.of(0, 1, 2).forEach(p -> cache.put("g", tp(p), at(1, 0)));
    assertThat(cache.admits("g", List.of(tp(0), tp(1), tp(2)))).as("updates").isTrue();
    assertThat(cache.admits("g", List.of(tp(0), tp(3)))).as("one new key").isFalse();
    assertThat(cache.admits("h", List.of(tp(0)))).as("a new group").isFalse();
    assertThat(cache.rejectedCommits()).isEqualTo(2);
    assertThat(metrics.getCounters().get("offsets.cache.rejected.commits").getCount()).isEqualTo(2);
    cache.put("g", tp(0), at(2, 1));
    assertThat(cache.offset("g", tp(0)).offset()).as("never dropped, only replaced").isEqualTo(2);
    assertThat(cache.entries()).isEqualTo(3);
  }

  @Test
  void estimatesTwoHundredBytesPerEntryPlusMetadata() {
    cache.put("g", tp(0), at(1, 0));
    cache.put("g", tp(1), new CommittedOffset(1, 0, "0123456789", 0));
    assertThat(cache.estimatedBytes()).isEqualTo(2 * OffsetCache.ENTRY_OVERHEAD_BYTES + 10);
    @SuppressWarnings("unchecked")
    final Gauge<Long> bytes =
        (Gauge<Long>) metrics.getGauges().get("offsets.cache.estimated.bytes");
    assertThat(bytes.getValue()).isEqualTo(cache.estimatedBytes());
    cache.put("g", tp(1), at(2, 0));
    assertThat(cache.estimatedBytes()).isEqualTo(2 * OffsetCache.ENTRY_OVERHEAD_BYTES);
    cache.removeGroup("g");
    assertThat(cache.entries()).isZero();
    assertThat(cache.estimatedBytes()).isZero();
    assertThat(cache.admits("h", List.of(tp(0), tp(1), tp(2)))).isTrue();
  }

  @Test
  void expiresOnlyOldOffsetsOfGroupsThatMayExpire() {
    cache.put("empty", tp(0), at(1, 0));
    cache.put("empty", tp(1), at(1, 500));
    cache.put("active", tp(0), at(1, 0));
    final List<OffsetCache.Key> expired = cache.expired(1000, 1000, g -> g.equals("empty"));
    assertThat(expired).containsExactly(new OffsetCache.Key("empty", tp(0)));
    cache.remove("empty", tp(0));
    assertThat(cache.offsets("empty")).containsOnlyKeys(tp(1));
    assertThat(cache.entries()).isEqualTo(2);
  }
}
