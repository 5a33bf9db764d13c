package io.skiff.chaos;

/**
 * Something that breaks a cluster and mends it: Jepsen's nemesis. {@link #start} injects one fault
 * and says what it did; {@link #heal} undoes whatever fault is active (doing nothing when none is),
 * so a schedule can always heal at the end, even after a failed start. A fault that heals by itself
 * (a leader transfer) has a heal that does nothing.
 *
 * <p>A nemesis is driven by one thread at a time (its {@link NemesisSchedule}).
 */
public interface Nemesis {
  /** Injects the fault; returns its description for the history, e.g. "kill -9 broker 2". */
  String start() throws Exception;

  /** Heals the active fault, if any; returns what was done, e.g. "restarted broker 2". */
  String heal() throws Exception;
}
