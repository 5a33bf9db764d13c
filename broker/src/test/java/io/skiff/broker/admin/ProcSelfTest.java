package io.skiff.broker.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.sun.management.UnixOperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcSelfTest {

  private static final String STATUS =
      """
      Name:\tjava
      Umask:\t0022
      State:\tS (sleeping)
      VmPeak:\t 4800000 kB
      VmSize:\t 4716252 kB
      VmRSS:\t  215836 kB
      Threads:\t42
      """;

  /** comm holds a space and a ')' to show fields are counted from the last ')'. */
  private static final String STAT =
      "4242 (java) main)) S 1 4242 4242 0 -1 4194560 51234 0 17 0 250 130 0 0 20 0 42 0"
          + " 1234567 4829184000 53959 18446744073709551615\n";

  @TempDir Path dir;

  @Test
  void readsKilobyteFieldsOfStatusAsBytes() throws IOException {
    Files.writeString(dir.resolve("status"), STATUS);
    ProcSelf proc = new ProcSelf(dir);

    assertThat(proc.statusBytes("VmRSS")).isEqualTo(215_836L * 1024);
    assertThat(proc.statusBytes("VmSize")).isEqualTo(4_716_252L * 1024);
    assertThat(proc.statusBytes("VmSwap")).isEqualTo(-1);
  }

  @Test
  void readsIoCounters() throws IOException {
    Files.writeString(
        dir.resolve("io"), "rchar: 323934931\nwchar: 1024\nread_bytes: 81920\nwrite_bytes: 4096\n");
    ProcSelf proc = new ProcSelf(dir);

    assertThat(proc.ioCounter("read_bytes")).isEqualTo(81_920);
    assertThat(proc.ioCounter("write_bytes")).isEqualTo(4_096);
    assertThat(proc.ioCounter("cancelled_write_bytes")).isEqualTo(-1);
  }

  @Test
  void countsStatFieldsFromTheLastParenthesis() throws IOException {
    Files.writeString(dir.resolve("stat"), STAT);
    ProcSelf proc = new ProcSelf(dir);

    assertThat(proc.statField(3)).isEqualTo(-1); // "S" is not a number
    assertThat(proc.statField(4)).isEqualTo(1);
    assertThat(proc.statField(ProcSelf.STAT_MINOR_FAULTS)).isEqualTo(51_234);
    assertThat(proc.statField(ProcSelf.STAT_MAJOR_FAULTS)).isEqualTo(17);
    assertThat(proc.cpuSeconds()).isEqualTo(3.8); // (250 + 130) ticks / 100
  }

  @Test
  void reportsMinusOneWhenThereIsNoProc() {
    ProcSelf proc = new ProcSelf(dir.resolve("absent"));

    assertThat(proc.available()).isFalse();
    assertThat(proc.statusBytes("VmRSS")).isEqualTo(-1);
    assertThat(proc.statField(ProcSelf.STAT_MINOR_FAULTS)).isEqualTo(-1);
    assertThat(proc.cpuSeconds()).isEqualTo(-1);
    assertThat(proc.openFileDescriptors()).isEqualTo(-1);
  }

  @Test
  void reportsMinusOneForUnreadableOrMalformedFiles() throws IOException {
    Files.writeString(dir.resolve("status"), "VmRSS:\tlots kB\n");
    Files.writeString(dir.resolve("stat"), "4242 (java) S 1\n");
    ProcSelf proc = new ProcSelf(dir);

    assertThat(proc.statusBytes("VmRSS")).isEqualTo(-1);
    assertThat(proc.statField(ProcSelf.STAT_MAJOR_FAULTS)).isEqualTo(-1);
    assertThat(proc.openFileDescriptors()).isEqualTo(-1);
  }

  @Test
  void countsOpenDescriptorsLikeTheJdk() {
    assumeThat(Files.isDirectory(Path.of("/proc/self/fd"))).isTrue();
    UnixOperatingSystemMXBean os =
        (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    long before = os.getOpenFileDescriptorCount();
    long ours = new ProcSelf().openFileDescriptors();
    long after = os.getOpenFileDescriptorCount();

    // Other test threads may open or close files in between; the counts agree within that.
    assertThat(ours)
        .isPositive()
        .isBetween(Math.min(before, after) - 2, Math.max(before, after) + 2);
  }
}
