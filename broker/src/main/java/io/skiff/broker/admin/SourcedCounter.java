package io.skiff.broker.admin;

import com.codahale.metrics.Counter;
import java.util.function.LongSupplier;

/**
 * A Dropwizard {@link Counter} whose count is read from a source kept elsewhere (a library's own
 * counters), so that {@code /metrics} and JMX type it as a counter ({@code _total}) rather than a
 * gauge. {@link #inc} and {@link #dec} are refused: the source is the only writer.
 *
 * <p>Thread-safe if the source is.
 */
public final class SourcedCounter extends Counter {
  private final LongSupplier source;

  public SourcedCounter(LongSupplier source) {
    this.source = source;
  }

  @Override
  public long getCount() {
    return source.getAsLong();
  }

  @Override
  public void inc(long n) {
    throw new UnsupportedOperationException("a sourced counter is read from its source only");
  }

  @Override
  public void dec(long n) {
    throw new UnsupportedOperationException("a sourced counter is read from its source only");
  }
}
