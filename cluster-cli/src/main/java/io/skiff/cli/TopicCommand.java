package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code skiff topic create|list|describe|delete|alter-config|add-partitions}, through the Kafka
 * Admin API. Stateless between runs; one run at a time.
 */
@Command(
    name = "topic",
    mixinStandardHelpOptions = true,
    description = "Create, inspect, configure and delete topics.",
    subcommands = {picocli.CommandLine.HelpCommand.class})
final class TopicCommand {
  @Spec CommandSpec spec;

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Create a topic.",
      footer = {
        "",
        "Examples:",
        "  skiff topic create orders --partitions 6 --replication-factor 3",
        "  skiff topic create audit -c retention.ms=604800000 -c min.insync.replicas=2"
      })
  int create(
      @Parameters(paramLabel = "TOPIC", description = "Name of the topic.") String topic,
      @Option(
              names = {"-p", "--partitions"},
              description = "Number of partitions (default: the cluster's num.partitions).")
          Optional<Integer> partitions,
      @Option(
              names = {"-r", "--replication-factor"},
              description = "Replicas per partition (default: default.replication.factor).")
          Optional<Short> replicationFactor,
      @Option(
              names = {"-c", "--config"},
              paramLabel = "KEY=VALUE",
              description = "A topic config, repeatable.")
          Map<String, String> configs,
      @Option(names = "--if-not-exists", description = "Succeed if the topic already exists.")
          boolean ifNotExists)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final NewTopic request =
        new NewTopic(topic, partitions, replicationFactor)
            .configs(configs == null ? Map.of() : configs);
    try (Admin admin = run.admin()) {
      try {
        run.await(admin.createTopics(List.of(request)).all());
      } catch (TopicExistsException e) {
        if (!ifNotExists) {
          throw new CliException("topic '" + topic + "' already exists");
        }
      }
      final TopicDescription created = awaitLeaders(run, admin, topic);
      final ObjectNode data = describe(created);
      run.printer()
          .print(
              data,
              out ->
                  out.printf(
                      "created topic %s: %d partitions, replication factor %d%n",
                      topic,
                      created.partitions().size(),
                      created.partitions().get(0).replicas().size()));
    }
    return 0;
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Every topic with its partition count and replication factor.",
      footer = {"", "Examples:", "  skiff topic list", "  skiff topic list --internal -o json"})
  int list(
      @Option(names = "--internal", description = "Include internal topics (__consumer_offsets).")
          boolean internal)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      final Set<String> names =
          run.await(admin.listTopics(new ListTopicsOptions().listInternal(internal)).names());
      final Map<String, TopicDescription> topics =
          names.isEmpty() ? Map.of() : run.await(admin.describeTopics(names).allTopicNames());
      final ObjectNode data = Printer.object();
      final ArrayNode array = data.putArray("topics");
      final Table table = new Table("TOPIC", "PARTITIONS", "REPLICATION");
      for (String name : new TreeSet<>(topics.keySet())) {
        final TopicDescription t = topics.get(name);
        final int rf = t.partitions().isEmpty() ? 0 : t.partitions().get(0).replicas().size();
        array
            .addObject()
            .put("name", name)
            .put("partitions", t.partitions().size())
            .put("replication_factor", rf);
        table.row(name, t.partitions().size(), rf);
      }
      run.printer().print(data, table::print);
    }
    return 0;
  }

  @Command(
      name = "describe",
      mixinStandardHelpOptions = true,
      description = "Partitions (leader, replicas, in-sync replicas) and configs of topics.",
      footer = {
        "",
        "Examples:",
        "  skiff topic describe orders",
        "  skiff topic describe orders audit -o yaml"
      })
  int describe(
      @Parameters(paramLabel = "TOPIC", arity = "1..*", description = "Topics to describe.")
          List<String> topics)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      final Map<String, TopicDescription> described = describeAll(run, admin, topics);
      final Map<ConfigResource, Config> configs =
          run.await(admin.describeConfigs(resources(topics)).all());
      final ObjectNode data = Printer.object();
      final ArrayNode array = data.putArray("topics");
      for (String name : topics) {
        final ObjectNode topic = describe(described.get(name));
        final ObjectNode config = topic.putObject("configs");
        overrides(configs.get(resource(name))).forEach(config::put);
        array.add(topic);
      }
      run.printer()
          .print(
              data,
              out -> {
                for (String name : topics) {
                  final TopicDescription t = described.get(name);
                  out.printf(
                      "topic %s  id %s  partitions %d%n", name, t.topicId(), t.partitions().size());
                  final Map<String, String> set = overrides(configs.get(resource(name)));
                  out.println("  configs: " + (set.isEmpty() ? "defaults" : set));
                  final Table table = new Table("PARTITION", "LEADER", "REPLICAS", "IN-SYNC");
                  for (TopicPartitionInfo p : t.partitions()) {
                    table.row(
                        p.partition(),
                        p.leader() == null || p.leader().isEmpty() ? "none" : p.leader().id(),
                        ClusterSnapshot.ids(p.replicas()),
                        ClusterSnapshot.ids(p.isr()));
                  }
                  table.print(out);
                  out.println();
                }
              });
    }
    return 0;
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Delete topics and their data.",
      footer = {
        "",
        "Examples:",
        "  skiff topic delete orders",
        "  skiff topic delete a b --if-exists"
      })
  int delete(
      @Parameters(paramLabel = "TOPIC", arity = "1..*", description = "Topics to delete.")
          List<String> topics,
      @Option(names = "--if-exists", description = "Succeed for topics that do not exist.")
          boolean ifExists)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final List<String> deleted = new ArrayList<>();
    try (Admin admin = run.admin()) {
      final var results = admin.deleteTopics(topics).topicNameValues();
      for (String topic : topics) {
        try {
          run.await(results.get(topic));
          deleted.add(topic);
        } catch (UnknownTopicOrPartitionException e) {
          if (!ifExists) {
            throw new CliException(
                unknown(topic) + (deleted.isEmpty() ? "" : "; deleted " + deleted));
          }
        }
      }
    }
    final ObjectNode data = Printer.object();
    data.set("deleted", stringArray(deleted));
    run.printer().print(data, out -> deleted.forEach(t -> out.println("deleted topic " + t)));
    return 0;
  }

  @Command(
      name = "alter-config",
      mixinStandardHelpOptions = true,
      description = "Set or remove topic configs (incrementally; others stay as they are).",
      footer = {
        "",
        "Examples:",
        "  skiff topic alter-config orders --set retention.ms=86400000",
        "  skiff topic alter-config orders --delete retention.ms"
      })
  int alterConfig(
      @Parameters(paramLabel = "TOPIC") String topic,
      @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Set a config, repeatable.")
          Map<String, String> set,
      @Option(
              names = "--delete",
              paramLabel = "KEY",
              description = "Remove an override, repeatable.")
          List<String> delete)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final List<AlterConfigOp> ops = new ArrayList<>();
    if (set != null) {
      set.forEach(
          (k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
    }
    if (delete != null) {
      delete.forEach(
          k -> ops.add(new AlterConfigOp(new ConfigEntry(k, ""), AlterConfigOp.OpType.DELETE)));
    }
    if (ops.isEmpty()) {
      throw new picocli.CommandLine.ParameterException(
          spec.subcommands().get("alter-config"),
          "nothing to change: give --set KEY=VALUE or --delete KEY");
    }
    try (Admin admin = run.admin()) {
      describeAll(run, admin, List.of(topic));
      run.await(admin.incrementalAlterConfigs(Map.of(resource(topic), ops)).all());
      final Map<String, String> now =
          overrides(
              run.await(admin.describeConfigs(List.of(resource(topic))).all())
                  .get(resource(topic)));
      final ObjectNode data = Printer.object().put("topic", topic);
      final ObjectNode configs = data.putObject("configs");
      now.forEach(configs::put);
      run.printer().print(data, out -> out.println("topic " + topic + " configs now: " + now));
    }
    return 0;
  }

  @Command(
      name = "add-partitions",
      mixinStandardHelpOptions = true,
      description =
          "Grow a topic to a total number of partitions (keys may map to new partitions).",
      footer = {"", "Examples:", "  skiff topic add-partitions orders --total 12"})
  int addPartitions(
      @Parameters(paramLabel = "TOPIC") String topic,
      @Option(names = "--total", required = true, description = "Partition count after the change.")
          int total)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      final int before = describeAll(run, admin, List.of(topic)).get(topic).partitions().size();
      if (total <= before) {
        throw new picocli.CommandLine.ParameterException(
            spec.subcommands().get("add-partitions"),
            "topic '" + topic + "' has " + before + " partitions already; --total must be more");
      }
      run.await(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(total))).all());
      awaitLeaders(run, admin, topic);
      final ObjectNode data =
          Printer.object()
              .put("topic", topic)
              .put("partitions_before", before)
              .put("partitions", total);
      run.printer()
          .print(data, out -> out.printf("topic %s: %d -> %d partitions%n", topic, before, total));
    }
    return 0;
  }

  /** Descriptions of {@code topics}, failing with one line that names the first unknown topic. */
  static Map<String, TopicDescription> describeAll(
      Invocation run, Admin admin, Collection<String> topics) throws Exception {
    final Map<String, TopicDescription> described = new LinkedHashMap<>();
    final var futures = admin.describeTopics(topics).topicNameValues();
    for (String topic : topics) {
      try {
        described.put(topic, run.await(futures.get(topic)));
      } catch (UnknownTopicOrPartitionException e) {
        throw new CliException(unknown(topic));
      }
    }
    return described;
  }

  /**
   * The topic once every partition has a leader (elections follow creation by a moment), or as it
   * is after {@code --timeout}, with a warning naming the partitions still without one.
   */
  static TopicDescription awaitLeaders(Invocation run, Admin admin, String topic) throws Exception {
    final long deadline = System.nanoTime() + run.timeout().toNanos();
    while (true) {
      final TopicDescription t = describeAll(run, admin, List.of(topic)).get(topic);
      final List<Integer> leaderless =
          t.partitions().stream()
              .filter(p -> p.leader() == null || p.leader().isEmpty())
              .map(TopicPartitionInfo::partition)
              .toList();
      if (leaderless.isEmpty()) {
        return t;
      }
      if (System.nanoTime() > deadline) {
        run.err()
            .println("warning: partitions " + leaderless + " of " + topic + " have no leader yet");
        return t;
      }
      Thread.sleep(100);
    }
  }

  static String unknown(String topic) {
    return "unknown topic '" + topic + "'; 'skiff topic list' shows the topics";
  }

  static ObjectNode describe(TopicDescription t) {
    final ObjectNode topic = Printer.object();
    topic.put("name", t.name());
    topic.put("id", t.topicId().toString());
    topic.put("internal", t.isInternal());
    final ArrayNode partitions = topic.putArray("partitions");
    for (TopicPartitionInfo p : t.partitions()) {
      final ObjectNode partition = partitions.addObject();
      partition.put("partition", p.partition());
      partition.put("leader", p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id());
      partition.set("replicas", Printer.ints(ClusterSnapshot.ids(p.replicas())));
      partition.set("isr", Printer.ints(ClusterSnapshot.ids(p.isr())));
    }
    return topic;
  }

  /** Configs set on the topic itself (not broker or built-in defaults), by name. */
  private static Map<String, String> overrides(Config config) {
    final Map<String, String> set = new java.util.TreeMap<>();
    if (config != null) {
      for (ConfigEntry e : config.entries()) {
        if (e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
          set.put(e.name(), e.value());
        }
      }
    }
    return set;
  }

  private static ConfigResource resource(String topic) {
    return new ConfigResource(ConfigResource.Type.TOPIC, topic);
  }

  private static List<ConfigResource> resources(List<String> topics) {
    return topics.stream().map(TopicCommand::resource).toList();
  }

  private static ArrayNode stringArray(List<String> values) {
    final ArrayNode array = Printer.array();
    values.forEach(array::add);
    return array;
  }
}
