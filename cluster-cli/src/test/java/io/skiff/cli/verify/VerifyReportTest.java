package io.skiff.cli.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.cli.verify.Op.Read;
import io.skiff.cli.verify.Op.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyReportTest {

  @Test
  void writesHistoryVerdictAndPlotsWithTheFaultWindows(@TempDir Path dir) throws Exception {
    final History history = new History();
    history.record(Op.send(1, "t-0", 10));
    history.record(Op.sent(1, "t-0", 10, 0));
    history.record(Op.faultStarts("kill -9 broker <2>"));
    history.record(Op.send(1, "t-0", 11));
    history.record(Op.sendEnded(1, Type.INFO, "t-0", 11, "timed out"));
    history.record(Op.faultHealed("restarted"));
    history.record(Op.send(1, "t-0", 12));
    history.record(Op.sent(1, "t-0", 12, 1));
    history.record(Op.poll(3));
    history.record(Op.polled(3, List.of(new Read("t-0", 1, 12))));
    final Verdict verdict = QueueChecker.check(history.ops());

    VerifyReport.write(dir, "unit", history, verdict);

    assertThat(History.read(dir.resolve("history.jsonl"))).isEqualTo(history.ops());
    assertThat(Files.readString(dir.resolve("verdict.json")))
        .contains("\"LOST_WRITE\" : 1")
        .contains("kill -9 broker <2>");
    assertThat(Files.readString(dir.resolve("verdict.txt"))).startsWith("INVALID");
    for (String png : List.of("latency.png", "throughput.png", "anomalies.png")) {
      assertThat(ImageIO.read(dir.resolve(png).toFile()).getWidth()).as(png).isEqualTo(1000);
    }
    assertThat(Files.readString(dir.resolve("index.html")))
        .contains("unit: INVALID")
        .contains("kill -9 broker &lt;2&gt;")
        .contains("<img src=\"latency.png\"");
  }
}
