package io.skiff.broker.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.util.ResourceLeakDetector;
import io.skiff.broker.memory.RequestBufferPool.SizeClass;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RequestFrameAllocatorTest {
  private final RequestBufferPool pool = new RequestBufferPool(4, 4);
  private final RequestFrameAllocator allocator = new RequestFrameAllocator(pool);

  @Test
  void frameStartsEmptyAndItsLastReleaseReturnsThePoolBuffer() {
    final ByteBuf frame = allocator.heapBuffer(5000);
    assertThat(frame.readableBytes()).isZero();
    assertThat(frame.capacity()).isEqualTo(RequestBufferPool.MEDIUM);
    frame.writeInt(42).retain();
    frame.release();
    assertThat(pool.inUse(SizeClass.MEDIUM)).isEqualTo(1);
    frame.release();
    assertThat(pool.inUse(SizeClass.MEDIUM)).isZero();
    assertThat(pool.available(SizeClass.MEDIUM)).isEqualTo(1);
  }

  @Test
  void frameCapacityIsFixed() {
    final ByteBuf frame = allocator.heapBuffer(10);
    try {
      assertThatThrownBy(() -> frame.capacity(100_000))
          .isInstanceOf(UnsupportedOperationException.class);
      assertThatThrownBy(() -> allocator.directBuffer(10))
          .isInstanceOf(UnsupportedOperationException.class);
    } finally {
      frame.release();
    }
  }

  @Test
  void unreleasedFrameIsReportedByTheLeakDetector() throws Exception {
    assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    final ListAppender<ILoggingEvent> leaks = new ListAppender<>();
    leaks.start();
    final Logger logger = (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
    logger.addAppender(leaks);
    try {
      leakOneFrame();
      for (int i = 0; i < 50 && leaks.list.isEmpty(); i++) {
        System.gc();
        Thread.sleep(50);
        allocator.heapBuffer(16).release(); // the detector reports at the next allocation
      }
      assertThat(leaks.list).isNotEmpty();
      assertThat(leaks.list.get(0).getFormattedMessage()).contains("LEAK");
    } finally {
      logger.detachAppender(leaks);
    }
  }

  private void leakOneFrame() {
    allocator.heapBuffer(100).writeLong(1);
  }
}
