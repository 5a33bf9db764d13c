package io.skiff.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skiff.broker.BrokerCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs {@code skiff} in the test JVM the way a shell would, capturing its exit code and output. */
final class Cli {
  /** One run: exit code, stdout, stderr. */
  record Run(int exit, String out, String err) {
    JsonNode json() {
      try {
        return new ObjectMapper().readTree(out);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + out + "\nstderr: " + err, e);
      }
    }

    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  private final Profile profile;
  private final List<String> prefix;

  Cli(Profile profile, String... prefix) {
    this.profile = profile;
    this.prefix = List.of(prefix);
  }

  /** A command line aimed at {@code bootstrap}, with no environment and no profile file. */
  static Cli against(String bootstrap) {
    return new Cli(
        Profile.load(Map.of(), Path.of("/nonexistent/skiff.properties")),
        "--bootstrap",
        bootstrap,
        "--timeout",
        "60s");
  }

  /**
   * A command line aimed at {@code brokers}: their bootstrap, the admin APIs of brokers {@code
   * adminIds}, and {@code timeout} ({@code --timeout}'s syntax, e.g. {@code 120s}); no environment
   * and no profile file.
   */
  static Cli against(BrokerCluster brokers, String timeout, int... adminIds) {
    final List<String> admins = new ArrayList<>();
    for (int id : adminIds) {
      admins.add(brokers.admin(id));
    }
    return new Cli(
        Profile.load(Map.of(), Path.of("/nonexistent/skiff.properties")),
        "--bootstrap",
        brokers.bootstrap(),
        "--admin",
        String.join(",", admins),
        "--timeout",
        timeout);
  }

  Run run(String... args) {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    final List<String> all = new ArrayList<>(prefix);
    all.addAll(List.of(args));
    final int exit =
        SkiffCli.run(
            profile, new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }
}
