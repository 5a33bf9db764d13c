package io.skiff.bench.sbs;

import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The figures of one workload in one run on one system. Immutable once built (the histogram and
 * series are not copied: nobody writes them after the workload ends).
 *
 * @param system {@code skiff} or {@code kafka}
 * @param run 1-based run number
 * @param workload the row label ({@code rf3-max}, {@code consume-group}, ...)
 * @param metrics metric name to value, in table order; see {@link ClusterRun} for the names
 * @param latencyMicros produce latency, null for consume workloads
 * @param mbPerSecond acknowledged MB (2^20 bytes) per second of the run, null for consume workloads
 */
record WorkloadResult(
    String system,
    int run,
    String workload,
    Map<String, Double> metrics,
    Histogram latencyMicros,
    double[] mbPerSecond) {}
