package io.skiff.broker.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PageCacheHitRatioTest {
  private final AtomicLong diskReads = new AtomicLong(1_000);
  private final AtomicLong served = new AtomicLong(5_000);
  private final PageCacheHitRatio ratio = new PageCacheHitRatio(diskReads::get, served::get);

  @Test
  void isUnknownUntilSomethingIsServed() {
    assertThat(ratio.getValue()).isEqualTo(-1.0);
    ratio.sample();
    assertThat(ratio.getValue()).isEqualTo(-1.0);
  }

  @Test
  void comparesDiskReadsWithBytesServedInEachWindow() {
    served.addAndGet(1_000_000);
    diskReads.addAndGet(250_000);
    ratio.sample();
    assertThat(ratio.getValue()).isEqualTo(0.75);

    served.addAndGet(1_000_000);
    ratio.sample();
    assertThat(ratio.getValue()).as("all from the page cache").isEqualTo(1.0);

    served.addAndGet(1_000);
    diskReads.addAndGet(10_000); // e.g. a recovery read while little was served
    ratio.sample();
    assertThat(ratio.getValue()).as("clamped at 0").isEqualTo(0.0);
  }

  @Test
  void isUnknownWithoutProc() {
    final PageCacheHitRatio noProc = new PageCacheHitRatio(() -> -1, served::get);
    served.addAndGet(1_000);
    noProc.sample();
    assertThat(noProc.getValue()).isEqualTo(-1.0);
  }
}
