package io.skiff.chaos;

import java.util.function.IntSupplier;

/**
 * Fills the disk under one broker's data directory with a ballast file, leaving {@code leaveBytes}
 * free, and frees it to heal: the broker must refuse writes with {@code KAFKA_STORAGE_ERROR} (it
 * keeps 1 MiB in reserve, so with less left it refuses every append) without losing what it
 * acknowledged, and take writes again once the space is back. Meant for a data directory on a small
 * file system of its own (a tmpfs of the container), so that the ballast stays small and filling it
 * touches no other broker.
 *
 * <p>The ballast is allocated with {@code fallocate} (no data written, instant on tmpfs and ext4),
 * as root, in a file the broker does not read. Driven by one thread at a time.
 */
public final class DiskFullNemesis implements Nemesis {
  private static final String BALLAST = ".skiff-chaos-ballast";

  private final BrokerShell shell;
  private final IntSupplier target;
  private final String dataDir;
  private final long leaveBytes;
  private int full = -1;

  /**
   * @param dataDir the broker's data directory inside its container, e.g. {@code /var/lib/skiff}
   * @param leaveBytes bytes left free after the ballast
   */
  public DiskFullNemesis(BrokerShell shell, IntSupplier target, String dataDir, long leaveBytes) {
    this.shell = shell;
    this.target = target;
    this.dataDir = dataDir;
    this.leaveBytes = leaveBytes;
  }

  @Override
  public String start() throws Exception {
    final int id = target.getAsInt();
    full = id;
    final String ballast = dataDir + "/" + BALLAST;
    final String script =
        "avail=$(df --output=avail -B1 "
            + dataDir
            + " | tail -1); size=$((avail - "
            + leaveBytes
            + ")); fallocate -l $size "
            + ballast
            + " && echo $size && df --output=avail -B1 "
            + dataDir
            + " | tail -1";
    final String[] out = shell.exec(id, "bash", "-c", script).strip().split("\\s+");
    return "disk full on broker "
        + id
        + ": ballast of "
        + Long.parseLong(out[0]) / (1024 * 1024)
        + " MiB leaves "
        + Long.parseLong(out[1]) / 1024
        + " KiB free in "
        + dataDir;
  }

  @Override
  public String heal() throws Exception {
    if (full < 0) {
      return "no disk filled";
    }
    final int id = full;
    shell.exec(id, "rm", "-f", dataDir + "/" + BALLAST);
    full = -1;
    return "freed the disk of broker " + id;
  }
}
