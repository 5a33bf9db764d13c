package io.skiff.broker.admin;

import java.util.Objects;

/**
 * The answer of a health check: whether the broker should receive traffic, and a sentence saying
 * why, which {@code GET /health} returns to the operator or the orchestrator's probe.
 *
 * @param healthy whether {@code /health} answers 200 rather than 503
 * @param detail what is fine, or why the broker is not healthy; never null
 */
public record HealthStatus(boolean healthy, String detail) {

  public HealthStatus {
    Objects.requireNonNull(detail, "detail");
  }

  /** A healthy status, e.g. {@code ok("serving 12 partitions")}. */
  public static HealthStatus ok(String detail) {
    return new HealthStatus(true, detail);
  }

  /** An unhealthy status, e.g. {@code unavailable("metadata log not caught up (lag 1200)")}. */
  public static HealthStatus unavailable(String reason) {
    return new HealthStatus(false, reason);
  }

  /** {@code {"status":"ok","detail":"..."}} or {@code {"status":"unavailable","reason":"..."}}. */
  String toJson() {
    return healthy
        ? "{\"status\":\"ok\",\"detail\":" + JsonString.quote(detail) + "}"
        : "{\"status\":\"unavailable\",\"reason\":" + JsonString.quote(detail) + "}";
  }
}
