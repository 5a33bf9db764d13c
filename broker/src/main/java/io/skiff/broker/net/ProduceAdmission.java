package io.skiff.broker.net;

import io.netty.util.concurrent.EventExecutor;
import io.skiff.broker.memory.ProduceMemoryPool;
import java.util.ArrayDeque;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The produce memory side of one connection: reserves each Produce request's record bytes in the
 * {@link ProduceMemoryPool} before the request is dispatched. When the pool cannot grant them, the
 * request is held, and so is every later request of the connection (their processing order must not
 * change), until the memory is granted or {@code maxBlockMs} after the request's arrival, when it
 * is handed back as timed out and the next held request gets its turn.
 *
 * <pre>
 *   offer(produce 40 KiB)  → pool full → held: [produce]          connection stops reading
 *   offer(metadata)        →             held: [produce, metadata]
 *   memory returns         → dispatch(produce, 40 KiB), dispatch(metadata, 0); held: []
 * </pre>
 *
 * <p>Thread-safety: the connection's event loop only; grants arrive on other threads and are handed
 * to the loop. Ownership: held requests (and their frames) belong to this object until passed to
 * the {@link Target}; {@link #close} releases those still held and any grant still on its way.
 */
final class ProduceAdmission {
  /** Where admitted and timed-out requests go. */
  interface Target {
    /** Hands a request to its handler; {@code reservedBytes} are released when it completes. */
    void dispatch(IncomingRequest request, long reservedBytes);

    /** Answers a request that waited {@code maxBlockMs} for memory; it holds no memory. */
    void timedOut(IncomingRequest request);

    /** Called when {@link #holding} may have changed. */
    void holdingChanged();
  }

  private final ProduceMemoryPool pool;
  private final long maxBlockMs;
  private final EventExecutor loop;
  private final Target target;
  private final ArrayDeque<IncomingRequest> held = new ArrayDeque<>();
  private ProduceMemoryPool.Waiter waiter; // the reservation of held's head
  private Future<?> waitTimeout;
  private boolean closed;

  ProduceAdmission(ProduceMemoryPool pool, long maxBlockMs, EventExecutor loop, Target target) {
    this.pool = pool;
    this.maxBlockMs = maxBlockMs;
    this.loop = loop;
    this.target = target;
  }

  /** Whether requests are held (the connection should not read more). */
  boolean holding() {
    return !held.isEmpty();
  }

  /** Dispatches {@code request} now if nothing is held and its memory is there; holds it else. */
  void offer(IncomingRequest request) {
    if (held.isEmpty()) {
      admit(request);
    } else {
      held.add(request);
    }
  }

  /** Dispatches or, when the pool is exhausted, holds at the front; false when held. */
  private boolean admit(IncomingRequest request) {
    if (request.produceBytes() == 0) {
      target.dispatch(request, 0);
      return true;
    }
    final ProduceMemoryPool.Waiter w =
        pool.reserveOrWait(request.produceBytes(), () -> loop.execute(this::granted));
    if (w == null) {
      target.dispatch(request, pool.reservationFor(request.produceBytes()));
      return true;
    }
    waiter = w;
    held.addFirst(request);
    final long waitNanos =
        request.arrivalNanos() + TimeUnit.MILLISECONDS.toNanos(maxBlockMs) - System.nanoTime();
    waitTimeout = loop.schedule(this::expired, Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
    return false;
  }

  /** Memory was reserved for the head of {@link #held}: dispatch it and what follows. */
  private void granted() {
    final long bytes = waiter.bytes();
    waiter = null;
    cancel(waitTimeout);
    if (closed) {
      pool.release(bytes);
      return;
    }
    target.dispatch(held.poll(), bytes);
    admitHeld();
  }

  /** The head of {@link #held} waited too long. */
  private void expired() {
    if (waiter == null || closed || !pool.cancel(waiter)) {
      return; // granted meanwhile: granted() is on its way
    }
    waiter = null;
    pool.recordTimeout();
    target.timedOut(held.poll());
    admitHeld();
  }

  private void admitHeld() {
    while (waiter == null && !held.isEmpty()) {
      if (!admit(held.poll())) {
        break;
      }
    }
    target.holdingChanged();
  }

  /** The connection closed: releases held frames and memory, now or when a grant arrives. */
  void close() {
    closed = true;
    if (waiter != null && pool.cancel(waiter)) {
      waiter = null; // else granted() runs and returns the bytes
    }
    for (IncomingRequest request : held) {
      request.frame().release();
    }
    held.clear();
    cancel(waitTimeout);
  }

  private static void cancel(Future<?> task) {
    if (task != null) {
      task.cancel(false);
    }
  }
}
