package io.skiff.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line itself: defaults, usage errors, help and completion; no cluster needed. */
class SkiffCliTest {
  @TempDir Path dir;

  private static Cli.Run run(Profile profile, String... args) {
    return new Cli(profile).run(args);
  }

  private Profile none() {
    return Profile.load(Map.of(), dir.resolve("absent.properties"));
  }

  /** The global options as the command would use them, read back through --help's defaults. */
  private static SkiffCli parsed(Profile profile, String... args) {
    final CommandLine cli = SkiffCli.commandLine(profile);
    cli.parseArgs(args);
    return cli.getCommand();
  }

  @Test
  void globalOptionsComeFromTheCommandLineThenTheEnvironmentThenTheProfileFile()
      throws IOException {
    final Path file = dir.resolve("skiff.properties");
    Files.writeString(file, "bootstrap=file:9092\noutput=yaml\ntimeout=7s\n");
    final Profile fileOnly = Profile.load(Map.of(), file);
    assertThat(parsed(fileOnly, "topic", "list").bootstrap).isEqualTo("file:9092");
    assertThat(parsed(fileOnly, "topic", "list").output).isEqualTo(Printer.Format.YAML);
    assertThat(parsed(fileOnly, "topic", "list").timeout).hasSeconds(7);

    final Profile withEnv = Profile.load(Map.of("SKIFF_BOOTSTRAP", "env:9092"), file);
    assertThat(parsed(withEnv, "topic", "list").bootstrap).isEqualTo("env:9092");
    assertThat(parsed(withEnv, "--bootstrap", "flag:9092", "topic", "list").bootstrap)
        .isEqualTo("flag:9092");
    assertThat(parsed(withEnv, "topic", "list", "--bootstrap", "flag:9092").bootstrap)
        .isEqualTo("flag:9092");
    assertThat(parsed(withEnv, "-o", "json", "topic", "list").output)
        .isEqualTo(Printer.Format.JSON);
    assertThat(parsed(none(), "topic", "list").bootstrap).isEqualTo("127.0.0.1:9092");
  }

  @Test
  void theProfileLivesUnderXdgConfigHome() throws IOException {
    Files.createDirectories(dir.resolve("skiff"));
    Files.writeString(dir.resolve("skiff/skiff.properties"), "bootstrap=xdg:9092\n");
    final Profile profile = Profile.ofUser(Map.of("XDG_CONFIG_HOME", dir.toString()));
    assertThat(parsed(profile, "cluster", "status").bootstrap).isEqualTo("xdg:9092");
  }

  @Test
  void anUnknownProfileKeyIsNamed() throws IOException {
    final Path file = dir.resolve("skiff.properties");
    Files.writeString(file, "bootstrap.servers=x:9092\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Profile.load(Map.of(), file))
        .hasMessageContaining("unknown key 'bootstrap.servers'")
        .hasMessageContaining(file.toString());
  }

  @Test
  void usageErrorsAreOneLineAndExitTwo() {
    final Cli.Run typo = run(none(), "topic", "craete", "x");
    assertThat(typo.exit()).isEqualTo(2);
    assertThat(typo.err()).contains("craete").contains("'skiff topic --help'");
    assertThat(typo.err().strip().lines()).hasSize(1);

    final Cli.Run format = run(none(), "--output", "xml", "topic", "list");
    assertThat(format.exit()).isEqualTo(2);
    assertThat(format.err()).contains("'xml' is not an output format; use text, json or yaml");
    assertThat(format.err().strip().lines()).hasSize(1);

    final Cli.Run timeout = run(none(), "topic", "list", "--timeout", "soon");
    assertThat(timeout.exit()).isEqualTo(2);
    assertThat(timeout.err()).contains("'soon' is not a duration");
  }

  @Test
  void anUnreachableClusterFailsWithOneLineAndExitOne() throws IOException {
    final int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    final Cli.Run run =
        run(none(), "--bootstrap", "127.0.0.1:" + closed, "--timeout", "2s", "topic", "list");
    assertThat(run.exit()).as(run.toString()).isEqualTo(1);
    assertThat(run.err()).startsWith("skiff topic list: timed out").contains("--bootstrap");
    assertThat(run.err().strip().lines()).hasSize(1);
  }

  @Test
  void everyCommandHasHelpWithExamples() {
    final List<String> missing = new ArrayList<>();
    visit(SkiffCli.commandLine(none()), missing);
    assertThat(missing).as("commands without examples in --help").isEmpty();
    final Cli.Run help = run(none(), "topic", "create", "--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out())
        .contains("Usage: skiff topic create")
        .contains("--bootstrap")
        .contains("--partitions")
        .contains("skiff topic create orders --partitions 6 --replication-factor 3");
  }

  private static void visit(CommandLine command, List<String> missing) {
    final String name = command.getCommandSpec().qualifiedName();
    final String usage = command.getUsageMessage();
    final boolean isGroup = !command.getSubcommands().isEmpty();
    if (!name.endsWith(" help") && !isGroup && !usage.contains("Examples:")) {
      missing.add(name);
    }
    command.getSubcommands().values().stream()
        .filter(sub -> sub.getParent() == command)
        .forEach(sub -> visit(sub, missing));
  }

  @Test
  void generatesABashCompletionScript() {
    final Cli.Run run = run(none(), "generate-completion");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("complete -F").contains("topic").contains("--bootstrap");
  }
}
