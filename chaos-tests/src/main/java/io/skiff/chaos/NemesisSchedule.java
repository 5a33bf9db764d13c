package io.skiff.chaos;

import io.skiff.cli.verify.History;
import io.skiff.cli.verify.Op;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs nemeses in turn on a thread of its own: a quiet interval, then the next nemesis' fault for a
 * while, then its heal, and again, until {@link #stop()}, which heals whatever fault is active and
 * waits for the thread. Each fault window goes into the history (invoke when the fault starts, ok
 * when healed), so the checker can compute availability per window.
 *
 * <p>Thread-safe: {@link #start} and {@link #stop} from the test thread; the nemeses run on the
 * schedule's thread only.
 */
public final class NemesisSchedule {
  private static final Logger LOG = LoggerFactory.getLogger(NemesisSchedule.class);

  private final History history;
  private final List<Nemesis> nemeses;
  private final Duration quiet;
  private final Duration fault;
  private final Thread thread = new Thread(this::run, "skiff-chaos-nemesis");
  private final CountDownLatch stopping = new CountDownLatch(1);
  private volatile Throwable failure;
  private final AtomicInteger faults = new AtomicInteger();

  public NemesisSchedule(History history, List<Nemesis> nemeses, Duration quiet, Duration fault) {
    this.history = history;
    this.nemeses = List.copyOf(nemeses);
    this.quiet = quiet;
    this.fault = fault;
  }

  public void start() {
    thread.start();
  }

  /** Stops after the current step, heals, and returns how many faults were injected. */
  public int stop() throws InterruptedException {
    stopping.countDown(); // ends a quiet interval or a fault early, never a heal
    thread.join();
    if (failure != null) {
      throw new IllegalStateException("nemesis failed: " + failure, failure);
    }
    return faults.get();
  }

  /** Faults injected so far. */
  public int faults() {
    return faults.get();
  }

  private void run() {
    for (int i = 0; failure == null; i++) {
      if (!sleep(quiet)) {
        break;
      }
      final Nemesis nemesis = nemeses.get(i % nemeses.size());
      try {
        final String what = nemesis.start();
        faults.incrementAndGet();
        LOG.info("fault: {}", what);
        history.record(Op.faultStarts(what)); // the window opens as the fault takes hold
        sleep(fault);
      } catch (Exception e) {
        LOG.warn("nemesis {} failed to start: {}", describe(nemesis), e.toString());
      } finally {
        heal(nemesis);
      }
    }
  }

  private void heal(Nemesis nemesis) {
    try {
      final String how = nemesis.heal();
      LOG.info("healed: {}", how);
      history.record(Op.faultHealed(how));
    } catch (Exception e) {
      failure = e;
      history.record(Op.faultHealed("heal failed: " + e));
    }
  }

  private static String describe(Nemesis nemesis) {
    return nemesis.getClass().getSimpleName();
  }

  /** Waits for {@code d}; false when the schedule is stopping. */
  private boolean sleep(Duration d) {
    try {
      return !stopping.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
