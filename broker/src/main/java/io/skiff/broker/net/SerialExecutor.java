package io.skiff.broker.net;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs tasks one at a time, in submission order, on a shared executor. A connection hands its
 * requests to its handlers through one, so they start in the order the client sent them: an
 * idempotent producer pipelines several Produce requests for a partition and needs them appended in
 * that order. Different connections still run in parallel. Handlers return futures rather than
 * block, so a slow Produce or a long-polling Fetch does not hold up the requests behind it.
 *
 * <p>Thread-safe. Owns no thread: at most one task of this executor runs at a time, on the
 * delegate's threads, and a run yields after {@value #BURST} tasks so one busy connection cannot
 * hold a thread of the shared pool for long.
 */
final class SerialExecutor implements Executor {
  private static final int BURST = 16;

  private final Executor delegate;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  SerialExecutor(Executor delegate) {
    this.delegate = delegate;
  }

  @Override
  public void execute(Runnable task) {
    tasks.add(task);
    schedule();
  }

  private void schedule() {
    if (!tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
      try {
        delegate.execute(this::drain);
      } catch (RuntimeException e) {
        scheduled.set(false);
        throw e;
      }
    }
  }

  private void drain() {
    try {
      Runnable task;
      for (int i = 0; i < BURST && (task = tasks.poll()) != null; i++) {
        task.run();
      }
    } finally {
      scheduled.set(false);
      schedule();
    }
  }
}
