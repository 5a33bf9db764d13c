package io.skiff.broker;

import java.util.Map;

/**
 * Typed lookups in broker properties, each error naming the key and what it must be. A null
 * fallback makes a key required. Immutable; thread-safe.
 */
public record TypedProperties(Map<String, String> values) {

  public String string(String key, String fallback) {
    final String v = values.get(key);
    return v == null || v.isBlank() ? fallback : v.trim();
  }

  public long longValue(String key, Long fallback) {
    final String v = values.get(key);
    if (v == null || v.isBlank()) {
      if (fallback == null) {
        throw new IllegalArgumentException(key + " is required");
      }
      return fallback;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a whole number but was '" + v + "'");
    }
  }

  public int intValue(String key, Integer fallback) {
    final long v = longValue(key, fallback == null ? null : fallback.longValue());
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(key + " is out of range: " + v);
    }
    return (int) v;
  }

  public int positive(String key, int fallback) {
    final int v = intValue(key, fallback);
    if (v <= 0) {
      throw new IllegalArgumentException(key + " must be > 0 but was " + v);
    }
    return v;
  }

  public long positiveLong(String key, long fallback) {
    final long v = longValue(key, fallback);
    if (v <= 0) {
      throw new IllegalArgumentException(key + " must be > 0 but was " + v);
    }
    return v;
  }

  public int port(String key, int fallback) {
    final int v = intValue(key, fallback);
    if (v < 0 || v > 65535) {
      throw new IllegalArgumentException(key + " must be a port 0-65535 but was " + v);
    }
    return v;
  }

  public boolean bool(String key, boolean fallback) {
    final String v = values.get(key);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
      throw new IllegalArgumentException(key + " must be true or false but was '" + v + "'");
    }
    return Boolean.parseBoolean(v);
  }
}
