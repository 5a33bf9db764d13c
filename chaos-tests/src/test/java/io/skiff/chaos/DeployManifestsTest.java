package io.skiff.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The deployment files checked by the tools that consume them, offline: each Kubernetes tier
 * overlay rendered by Kustomize ({@code kubectl kustomize}) and validated against the Kubernetes
 * OpenAPI schemas ({@code deploy/kubernetes/validate}, kubernetes-models from npm); the Prometheus
 * config and alert rules by {@code promtool check} and the rules' unit tests by {@code promtool
 * test rules}. Each test skips, saying what to install, when its tool is missing.
 */
class DeployManifestsTest {
  private static final Path ROOT = SkiffImage.repoRoot();
  private static final Path KUBERNETES = ROOT.resolve("deploy/kubernetes");
  private static final Path PROMETHEUS = ROOT.resolve("deploy/prometheus");

  @ParameterizedTest
  @ValueSource(strings = {"dev", "small", "medium", "large"})
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void kubernetesOverlayRendersToManifestsThatPassTheKubernetesSchemas(String tier)
      throws Exception {
    requireTool("kubectl", "kubectl (Debian: kubernetes-client) renders the Kustomize overlays");
    requireTool("npm", "npm installs the schema validator (kubernetes-models)");
    installValidator();
    final Path rendered = Files.createTempFile("skiff-" + tier, ".yaml");
    try {
      final Result render =
          run(KUBERNETES, List.of("kubectl", "kustomize", "overlays/" + tier), rendered);
      assertThat(render.exit()).as("kubectl kustomize: %s", render.output()).isZero();
      assertThat(Files.readString(rendered)).contains("kind: StatefulSet", "value: " + tier);
      final Result validate =
          run(KUBERNETES, List.of("node", "validate/validate.mjs", rendered.toString()), null);
      assertThat(validate.exit()).as(validate.output()).isZero();
      assertThat(validate.output()).contains("4 manifests valid, 0 problems");
    } finally {
      Files.deleteIfExists(rendered);
    }
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void prometheusConfigAndAlertRulesPassPromtool() throws Exception {
    requireTool("promtool", "promtool (Debian: prometheus) checks the rules");
    for (List<String> command :
        List.of(
            List.of("promtool", "check", "config", "prometheus.yml"),
            List.of("promtool", "check", "rules", "alerts.yml"),
            List.of("promtool", "test", "rules", "alerts.test.yml"))) {
      final Result result = run(PROMETHEUS, command, null);
      assertThat(result.exit()).as("%s: %s", command, result.output()).isZero();
    }
  }

  private static synchronized void installValidator() throws Exception {
    if (Files.isDirectory(KUBERNETES.resolve("validate/node_modules/kubernetes-models"))) {
      return;
    }
    final Result install =
        run(KUBERNETES.resolve("validate"), List.of("npm", "ci", "--no-audit", "--no-fund"), null);
    Assumptions.assumeTrue(
        install.exit() == 0, "npm ci of the schema validator failed: " + install.output());
  }

  private static void requireTool(String tool, String why) {
    final boolean found =
        List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).stream()
            .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
    Assumptions.assumeTrue(found, tool + " is not installed: " + why);
  }

  private record Result(int exit, String output) {}

  /** Runs a command in {@code dir}; stdout to {@code stdout} when given, else into the result. */
  private static Result run(Path dir, List<String> command, Path stdout)
      throws IOException, InterruptedException {
    final Path log = Files.createTempFile("skiff-cmd", ".log");
    try {
      final ProcessBuilder builder =
          new ProcessBuilder(command).directory(dir.toFile()).redirectError(log.toFile());
      builder.redirectOutput(stdout != null ? stdout.toFile() : log.toFile());
      if (stdout == null) {
        builder.redirectErrorStream(true);
      }
      final Process process = builder.start();
      if (!process.waitFor(3, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        return new Result(-1, command + " timed out");
      }
      return new Result(process.exitValue(), Files.readString(log));
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
