package io.skiff.raft.metadata;

/**
 * Where a broker stands in the cluster's membership, as the metadata records it.
 *
 * <pre>
 *   ACTIVE ──maintenance on──▶ MAINTENANCE ──maintenance off──▶ ACTIVE
 *   ACTIVE | MAINTENANCE ──decommission──▶ DRAINING ──last replica moved off──▶ DECOMMISSIONED
 *   DRAINING | DECOMMISSIONED ──recommission──▶ ACTIVE
 * </pre>
 *
 * <p>The {@link #code} is the byte snapshots store; 0 and 1 are the {@code false}/{@code true} of
 * the boolean snapshots held before states existed, so those still read. Immutable.
 */
public enum BrokerState {
  /** Holds no replicas and takes none; hidden from clients' metadata. */
  DECOMMISSIONED(0),
  /** Serves, leads, takes new replicas. */
  ACTIVE(1),
  /** Keeps its replicas and follows, but leads nothing (a rolling restart, a disk swap). */
  MAINTENANCE(2),
  /** Its replicas are being moved to other brokers; it takes no new ones. */
  DRAINING(3);

  private final byte code;

  BrokerState(int code) {
    this.code = (byte) code;
  }

  public byte code() {
    return code;
  }

  /** The lower-case name the admin API and CLI use ({@code active}, {@code maintenance}...). */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static BrokerState ofCode(byte code) {
    for (BrokerState s : values()) {
      if (s.code == code) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown broker state code " + code);
  }

  /** New replicas may be placed on it. */
  public boolean acceptsReplicas() {
    return this == ACTIVE || this == MAINTENANCE;
  }

  /** It may lead partitions: it is not in maintenance (nor gone). */
  public boolean mayLead() {
    return this == ACTIVE || this == DRAINING;
  }
}
