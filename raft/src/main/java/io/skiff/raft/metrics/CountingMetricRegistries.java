package io.skiff.raft.metrics;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.util.RefCountingMap;
import org.apache.ratis.util.TimeDuration;

/**
 * Skiff's implementation of Ratis' metrics service ({@link MetricRegistries}, found by Ratis
 * through {@code META-INF/services}): {@link CountingMetricRegistry} registries, whose timers count
 * and sum instead of sampling into Dropwizard reservoirs, in place of {@code
 * ratis-metrics-default}, which Skiff does not ship. Ratis updates several timers per entry on
 * every replica, so their cost is per replicated entry; see {@link CountingTimer}.
 *
 * <p>Registries are reference-counted by their {@link MetricRegistryInfo} (one per component of a
 * division), as in Ratis' default implementation. Nothing is exported over JMX or to a console:
 * Ratis' default registered one MBean per metric of every division, which also slowed group
 * creation (docs/raft-scaling.md); Skiff reads what it exports ({@code io.skiff.raft.
 * ElectionCounters}) from these registries directly. Reporter registrations are honoured for code
 * that brings its own reporter.
 *
 * <p>Thread-safe.
 */
public final class CountingMetricRegistries extends MetricRegistries {
  private final RefCountingMap<MetricRegistryInfo, RatisMetricRegistry> registries =
      new RefCountingMap<>();
  private final List<Consumer<RatisMetricRegistry>> reporterRegistrations =
      new CopyOnWriteArrayList<>();
  private final List<Consumer<RatisMetricRegistry>> stopReporters = new CopyOnWriteArrayList<>();

  /** Public and without arguments, for {@link java.util.ServiceLoader}. */
  public CountingMetricRegistries() {}

  @Override
  public RatisMetricRegistry create(MetricRegistryInfo info) {
    return registries.put(
        info,
        () -> {
          final CountingMetricRegistry registry = new CountingMetricRegistry(info);
          reporterRegistrations.forEach(r -> r.accept(registry));
          return registry;
        });
  }

  /** Drops one reference; returns true once the registry is gone. */
  @Override
  public boolean remove(MetricRegistryInfo key) {
    final RatisMetricRegistry registry = registries.get(key);
    if (registry != null) {
      stopReporters.forEach(r -> r.accept(registry));
    }
    return registries.remove(key) == null;
  }

  @Override
  public Optional<RatisMetricRegistry> get(MetricRegistryInfo info) {
    return Optional.ofNullable(registries.get(info));
  }

  @Override
  public Set<MetricRegistryInfo> getMetricRegistryInfos() {
    return Collections.unmodifiableSet(registries.keySet());
  }

  @Override
  public Collection<RatisMetricRegistry> getMetricRegistries() {
    return Collections.unmodifiableCollection(registries.values());
  }

  @Override
  public void clear() {
    registries.clear();
  }

  @Override
  public void addReporterRegistration(
      Consumer<RatisMetricRegistry> reporterRegistration,
      Consumer<RatisMetricRegistry> stopReporter) {
    reporterRegistrations.add(reporterRegistration);
    stopReporters.add(stopReporter);
  }

  @Override
  public void removeReporterRegistration(
      Consumer<RatisMetricRegistry> reporterRegistration,
      Consumer<RatisMetricRegistry> stopReporter) {
    reporterRegistrations.remove(reporterRegistration);
    stopReporters.remove(stopReporter);
  }

  @Override
  public void enableJmxReporter() {
    throw new UnsupportedOperationException(
        "Skiff does not export Ratis' own metrics over JMX; read them from"
            + " MetricRegistries.global() (CountingMetricRegistry) or use the broker's /metrics");
  }

  @Override
  public void enableConsoleReporter(TimeDuration consoleReportRate) {
    throw new UnsupportedOperationException(
        "Skiff does not print Ratis' own metrics to the console; read them from"
            + " MetricRegistries.global() (CountingMetricRegistry)");
  }
}
