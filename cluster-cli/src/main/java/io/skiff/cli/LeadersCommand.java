package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code skiff leaders balance}: preferred leader election everywhere. One run at a time. */
@Command(
    name = "leaders",
    mixinStandardHelpOptions = true,
    description = "Partition leadership.",
    subcommands = {picocli.CommandLine.HelpCommand.class})
final class LeadersCommand {
  @Spec CommandSpec spec;

  @Command(
      name = "balance",
      mixinStandardHelpOptions = true,
      description =
          "Hand each partition's leadership to its preferred (first) replica, e.g. after a broker"
              + " restart; 'skiff partition balance' also evens out the preferred replicas.",
      footer = {"", "Examples:", "  skiff leaders balance", "  skiff leaders balance -o json"})
  int balance() throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      final PreferredLeaders.Outcome outcome = PreferredLeaders.elect(run, admin);
      final ClusterSnapshot after = ClusterSnapshot.read(admin, run);
      final ObjectNode data = Printer.object();
      final ArrayNode elected = data.putArray("elected");
      outcome.elected().forEach(tp -> elected.add(ReassignmentPlan.name(tp)));
      final ArrayNode failed = data.putArray("failed");
      outcome.failed().forEach(failed::add);
      final ObjectNode leaders = data.putObject("leaders_per_broker");
      after.leaderCounts().forEach((b, n) -> leaders.put(Integer.toString(b), n));
      run.printer()
          .print(
              data,
              out -> {
                out.printf(
                    "moved leadership of %d partitions to their preferred replica%n",
                    outcome.elected().size());
                outcome.failed().forEach(f -> out.println("  could not: " + f));
                BrokerCommand.table(after).print(out);
              });
      return outcome.failed().isEmpty() ? 0 : 1;
    }
  }
}
