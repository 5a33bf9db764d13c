package io.skiff.cli.verify;

import java.util.List;
import java.util.Map;

/**
 * What {@link QueueChecker} concluded about a history. Immutable.
 *
 * @param valid no anomaly, and at least one send acknowledged and one value read
 * @param anomalies count per anomaly class (every class present, zero when not seen)
 * @param examples up to a few descriptions per anomaly class seen
 * @param sends send completions by type (OK, FAIL, INFO)
 * @param reads records read by every poll together
 * @param unseen acknowledged values never read, with no read at or past their offset (allowed)
 * @param indeterminateRead sends completed INFO whose value was read (they happened)
 * @param availability per fault window
 * @param longestWriteOutageMs longest time with no send acknowledged, over the whole run
 */
public record Verdict(
    boolean valid,
    Map<Anomaly, Integer> anomalies,
    Map<Anomaly, List<String>> examples,
    Map<Op.Type, Integer> sends,
    long reads,
    int unseen,
    int indeterminateRead,
    List<FaultWindow> availability,
    double longestWriteOutageMs) {

  /**
   * Availability during one fault window.
   *
   * @param fault what the nemesis did
   * @param startMs window start, milliseconds since the history began
   * @param endMs when it was healed (the end of the history if never)
   * @param operations sends and polls invoked in the window
   * @param succeeded those of them that completed OK
   * @param longestWriteOutageMs longest time in the window with no send acknowledged
   */
  public record FaultWindow(
      String fault,
      double startMs,
      double endMs,
      int operations,
      int succeeded,
      double longestWriteOutageMs) {

    /** Fraction of the window's operations that succeeded (1 when there were none). */
    public double availability() {
      return operations == 0 ? 1.0 : (double) succeeded / operations;
    }
  }

  /** One line per fact, as the CLI prints it. */
  public String summary() {
    final StringBuilder s = new StringBuilder();
    s.append(valid ? "VALID" : "INVALID").append('\n');
    s.append(
        String.format(
            "sends ok=%d fail=%d info=%d; reads=%d; unseen=%d; indeterminate sends read=%d%n",
            sends.getOrDefault(Op.Type.OK, 0),
            sends.getOrDefault(Op.Type.FAIL, 0),
            sends.getOrDefault(Op.Type.INFO, 0),
            reads,
            unseen,
            indeterminateRead));
    anomalies.forEach(
        (a, n) -> {
          s.append(String.format("%-20s %d%n", a, n));
          examples.getOrDefault(a, List.of()).forEach(e -> s.append("    ").append(e).append('\n'));
        });
    for (FaultWindow w : availability) {
      s.append(
          String.format(
              "fault %-40s %7.1fs..%7.1fs ops=%d availability=%.3f write outage=%.0f ms%n",
              w.fault(),
              w.startMs() / 1000,
              w.endMs() / 1000,
              w.operations(),
              w.availability(),
              w.longestWriteOutageMs()));
    }
    s.append(String.format("longest write outage %.0f ms%n", longestWriteOutageMs));
    return s.toString();
  }
}
