package io.skiff.broker.api;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * The Kafka APIs this broker answers, with the version range of each. APIs not registered are
 * absent from ApiVersions, and a request for them closes the connection, as Kafka does.
 * Registration happens at startup; lookups are then read-only and thread-safe.
 */
public final class ApiRegistry {
  /** A registered API. */
  public record Entry(ApiKeys key, short minVersion, short maxVersion, ApiHandler handler) {
    public boolean supports(short version) {
      return version >= minVersion && version <= maxVersion;
    }
  }

  private final Map<ApiKeys, Entry> entries = new EnumMap<>(ApiKeys.class);

  /** Registers {@code key} for versions from {@code minVersion} to the newest the codec knows. */
  public ApiRegistry register(ApiKeys key, int minVersion, ApiHandler handler) {
    return register(key, minVersion, key.latestVersion(), handler);
  }

  public ApiRegistry register(ApiKeys key, int minVersion, int maxVersion, ApiHandler handler) {
    if (minVersion < key.oldestVersion() || maxVersion > key.latestVersion()) {
      throw new IllegalArgumentException(
          key
              + " versions "
              + minVersion
              + ".."
              + maxVersion
              + " exceed what the codec knows: "
              + key.oldestVersion()
              + ".."
              + key.latestVersion());
    }
    entries.put(key, new Entry(key, (short) minVersion, (short) maxVersion, handler));
    return this;
  }

  public Entry get(ApiKeys key) {
    return entries.get(key);
  }

  public Map<ApiKeys, Entry> entries() {
    return Collections.unmodifiableMap(entries);
  }
}
