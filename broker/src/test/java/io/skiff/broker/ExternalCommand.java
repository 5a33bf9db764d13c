package io.skiff.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client program run as a child process by the compatibility tests: stdin fed from a string,
 * stdout and stderr collected on their own threads (so a chatty child never blocks), killed at a
 * deadline.
 */
final class ExternalCommand {
  private final List<String> command;
  private Path directory;
  private String stdin;
  private Duration timeout = Duration.ofSeconds(90);

  private ExternalCommand(List<String> command) {
    this.command = command;
  }

  static ExternalCommand of(String... command) {
    return new ExternalCommand(List.of(command));
  }

  static ExternalCommand of(List<String> command) {
    return new ExternalCommand(List.copyOf(command));
  }

  ExternalCommand in(Path dir) {
    this.directory = dir;
    return this;
  }

  ExternalCommand stdin(String text) {
    this.stdin = text;
    return this;
  }

  ExternalCommand timeout(Duration limit) {
    this.timeout = limit;
    return this;
  }

  /** Whether {@code probe} starts and exits with 0 within 30 s: is a runtime installed? */
  static boolean available(String... probe) {
    try {
      final Process p =
          new ProcessBuilder(probe)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The command as messages show it: a class path is elided. */
  private String display() {
    final List<String> shown = new ArrayList<>(command);
    for (int i = 0; i + 1 < shown.size(); i++) {
      if (shown.get(i).equals("-cp")) {
        shown.set(i + 1, "<class path>");
      }
    }
    return String.join(" ", shown);
  }

  /** Runs the command; asserts it exits with 0 in time; returns its stdout. */
  String run() throws IOException, InterruptedException {
    final Result result = start();
    assertThat(result.exitCode)
        .as("%s exit code; stderr:%n%s%nstdout:%n%s", display(), result.stderr, result.stdout)
        .isZero();
    return result.stdout;
  }

  /** Runs the command and returns what happened, whatever its exit code. */
  Result start() throws IOException, InterruptedException {
    final ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command));
    if (directory != null) {
      builder.directory(directory.toFile());
    }
    final Process p = builder.start();
    final CompletableFuture<String> out = drain(p.getInputStream());
    final CompletableFuture<String> err = drain(p.getErrorStream());
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError(
          display() + " did not finish within " + timeout + "; stderr:\n" + err.getNow(""));
    }
    return new Result(p.exitValue(), out.join(), err.join());
  }

  /** Reads a stream to its end on a thread of its own (the common pool may have one thread). */
  private static CompletableFuture<String> drain(InputStream stream) {
    final CompletableFuture<String> text = new CompletableFuture<>();
    final Thread reader =
        new Thread(
            () -> {
              try (stream) {
                text.complete(new String(stream.readAllBytes(), StandardCharsets.UTF_8));
              } catch (IOException e) {
                text.completeExceptionally(new UncheckedIOException(e));
              }
            },
            "external-command-reader");
    reader.setDaemon(true);
    reader.start();
    return text;
  }

  /** A finished command. */
  record Result(int exitCode, String stdout, String stderr) {}
}
