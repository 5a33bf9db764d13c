package io.skiff.broker.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/jvm/java-home.sh, which ./mvnw, ./skiff and the container entry point source to find a
 * Java 25+, run by a real POSIX shell over Java homes laid out as JDKs lay themselves out ({@code
 * release}, {@code bin/java}, {@code bin/javac}).
 */
class JavaHomeScriptTest {
  private static final Path SCRIPT =
      Path.of("..", "deploy", "jvm", "java-home.sh").toAbsolutePath();

  @TempDir Path dir;
  private Path jdk17;
  private Path jdk25;
  private Path jre26;
  private Path tools;

  @BeforeEach
  void layOutJavaHomes() throws IOException {
    jdk17 = javaHome("jvm/jdk-17", "17.0.15", true);
    jdk25 = javaHome("jvm/jdk-25", "25.0.3", true);
    jre26 = javaHome("jvm/jre-26", "26", false);
    // The shell finds only the tools the script uses: no java of this machine on PATH.
    tools = Files.createDirectories(dir.resolve("tools"));
    for (String tool : List.of("sh", "sed", "head", "dirname", "readlink", "cat")) {
      final Path usrBin = Path.of("/usr/bin", tool);
      Files.createSymbolicLink(
          tools.resolve(tool), Files.isExecutable(usrBin) ? usrBin : Path.of("/bin", tool));
    }
  }

  @Test
  void picksTheNewestJava25WithJavacInTheSearchDirectoriesWhenJavaHomeIsOlder() throws Exception {
    final Result jdk = run("jdk", Map.of("JAVA_HOME", jdk17.toString()));
    assertThat(jdk.exit).isZero();
    assertThat(jdk.stdout).isEqualTo(jdk25.toString());
    assertThat(jdk.stderr).contains("JAVA_HOME=" + jdk17 + " is Java 17; using " + jdk25);

    final Result runtime = run("", Map.of("JAVA_HOME", jdk17.toString()));
    assertThat(runtime.stdout).as("a runtime needs no javac").isEqualTo(jre26.toString());
  }

  @Test
  void keepsAJavaHomeThatIs25OrNewer() throws Exception {
    final Result result = run("jdk", Map.of("JAVA_HOME", jdk25.toString()));
    assertThat(result.exit).isZero();
    assertThat(result.stdout).isEqualTo(jdk25.toString());
    assertThat(result.stderr).isEmpty();
  }

  @Test
  void refusesASkiffJavaHomeOlderThan25InsteadOfLookingElsewhere() throws Exception {
    final Result result = run("jdk", Map.of("SKIFF_JAVA_HOME", jdk17.toString()));
    assertThat(result.exit).isEqualTo(1);
    assertThat(result.stdout).isEmpty();
    assertThat(result.stderr)
        .contains("SKIFF_JAVA_HOME=" + jdk17 + " is not a Java 25+ JDK (with javac)")
        .contains("found release '17'");
  }

  @Test
  void saysHowToGetJava25WhenThereIsNone() throws Exception {
    final Result result =
        run("jdk", Map.of("JAVA_HOME", jdk17.toString(), "SKIFF_JAVA_SEARCH", "/nonexistent"));
    assertThat(result.exit).isEqualTo(1);
    assertThat(result.stdout).isEmpty();
    assertThat(result.stderr)
        .contains("no Java 25 or newer found")
        .contains("Adoptium's apt repository, package temurin-25-jdk")
        .contains("SKIFF_JAVA_HOME");
  }

  private Path javaHome(String name, String version, boolean withJavac) throws IOException {
    final Path home = Files.createDirectories(dir.resolve(name).resolve("bin"));
    executable(home.resolve("java"));
    if (withJavac) {
      executable(home.resolve("javac"));
    }
    Files.writeString(
        home.getParent().resolve("release"),
        "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n",
        StandardCharsets.UTF_8);
    return home.getParent();
  }

  private static void executable(Path file) throws IOException {
    Files.writeString(file, "#!/bin/sh\nexit 1\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private Result run(String kind, Map<String, String> env) throws Exception {
    final ProcessBuilder builder =
        new ProcessBuilder(
            tools.resolve("sh").toString(),
            "-c",
            ". \"$1\" && set -f && skiff_java_home " + kind,
            "sh",
            SCRIPT.toString());
    builder.environment().clear();
    builder.environment().put("PATH", tools.toString());
    builder.environment().put("HOME", dir.resolve("home").toString());
    builder.environment().put("SKIFF_JAVA_SEARCH", dir.resolve("jvm").toString());
    builder.environment().putAll(env);
    final Process process = builder.start();
    final String stdout =
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    final String stderr =
        new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Result(process.exitValue(), stdout.strip(), stderr.strip());
  }

  private record Result(int exit, String stdout, String stderr) {}
}
