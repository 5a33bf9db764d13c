package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code skiff group list|describe|reset-offsets|delete}: consumer groups through the Kafka Admin
 * API. Stateless between runs; one run at a time.
 */
@Command(
    name = "group",
    mixinStandardHelpOptions = true,
    description = "Inspect consumer groups, move their offsets, delete them.",
    subcommands = {picocli.CommandLine.HelpCommand.class})
final class GroupCommand {
  @Spec CommandSpec spec;

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Every consumer group with its state.",
      footer = {"", "Examples:", "  skiff group list", "  skiff group list -o json"})
  int list() throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      final List<GroupListing> groups = new ArrayList<>(run.await(admin.listGroups().all()));
      groups.sort((a, b) -> a.groupId().compareTo(b.groupId()));
      final ObjectNode data = Printer.object();
      final ArrayNode array = data.putArray("groups");
      final Table table = new Table("GROUP", "STATE", "PROTOCOL");
      for (GroupListing g : groups) {
        final String state = g.groupState().map(s -> s.toString()).orElse("unknown");
        array
            .addObject()
            .put("group", g.groupId())
            .put("state", state)
            .put("protocol", g.protocol());
        table.row(g.groupId(), state, g.protocol().isEmpty() ? null : g.protocol());
      }
      run.printer().print(data, table::print);
    }
    return 0;
  }

  @Command(
      name = "describe",
      mixinStandardHelpOptions = true,
      description =
          "A group's state, members, and per partition its committed offset, end offset and lag.",
      footer = {
        "",
        "Examples:",
        "  skiff group describe billing",
        "  skiff group describe billing -o json"
      })
  int describe(@Parameters(paramLabel = "GROUP") String group) throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (Admin admin = run.admin()) {
      final ConsumerGroupDescription d = describeGroup(run, admin, group);
      final Map<TopicPartition, OffsetAndMetadata> committed = committed(run, admin, group);
      final Map<TopicPartition, Long> end =
          offsets(run, admin, committed.keySet(), OffsetSpec.latest());
      final ObjectNode data =
          Printer.object().put("group", group).put("state", d.groupState().toString());
      final ArrayNode members = data.putArray("members");
      final Map<TopicPartition, String> owner = new HashMap<>();
      for (MemberDescription m : d.members()) {
        final ObjectNode member = members.addObject();
        member
            .put("member_id", m.consumerId())
            .put("client_id", m.clientId())
            .put("host", m.host());
        final ArrayNode assigned = member.putArray("partitions");
        m.assignment()
            .topicPartitions()
            .forEach(
                tp -> {
                  assigned.add(tp.topic() + "/" + tp.partition());
                  owner.put(tp, m.clientId());
                });
      }
      final ArrayNode offsets = data.putArray("offsets");
      final Table table = new Table("TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "CLIENT");
      long totalLag = 0;
      for (TopicPartition tp : sorted(committed.keySet())) {
        final long at = committed.get(tp).offset();
        final long endOffset = end.getOrDefault(tp, -1L);
        final long lag = endOffset < 0 ? -1 : Math.max(0, endOffset - at);
        totalLag += Math.max(lag, 0);
        offsets
            .addObject()
            .put("topic", tp.topic())
            .put("partition", tp.partition())
            .put("committed", at)
            .put("end", endOffset)
            .put("lag", lag);
        table.row(tp.topic(), tp.partition(), at, endOffset, lag, owner.get(tp));
      }
      data.put("total_lag", totalLag);
      final long lagSum = totalLag;
      run.printer()
          .print(
              data,
              out -> {
                out.printf(
                    "group %s  state %s  members %d  total lag %d%n%n",
                    group, d.groupState(), d.members().size(), lagSum);
                table.print(out);
              });
    }
    return 0;
  }

  /** Exactly one way to choose the new offsets. */
  static final class Target {
    @Option(names = "--to-earliest", description = "The log start offset.")
    boolean earliest;

    @Option(names = "--to-latest", description = "The log end offset.")
    boolean latest;

    @Option(names = "--to-offset", paramLabel = "N", description = "Offset N (clamped to the log).")
    Long offset;

    @Option(
        names = "--shift-by",
        paramLabel = "N",
        description = "Committed offset + N (N may be negative).")
    Long shift;

    @Option(
        names = "--to-datetime",
        paramLabel = "ISO-8601",
        description = "First offset at or after, e.g. 2026-12-04T10:00:00Z.")
    String datetime;
  }

  @Command(
      name = "reset-offsets",
      mixinStandardHelpOptions = true,
      description =
          "Move a group's committed offsets. Shows the plan unless --execute is given; the group"
              + " must have no active members.",
      footer = {
        "",
        "Examples:",
        "  skiff group reset-offsets billing --topic orders --to-earliest",
        "  skiff group reset-offsets billing --topic orders --shift-by -100 --execute",
        "  skiff group reset-offsets billing --all-topics --to-datetime 2026-12-04T10:00:00Z --execute"
      })
  int resetOffsets(
      @Parameters(paramLabel = "GROUP") String group,
      @Option(
              names = "--topic",
              paramLabel = "TOPIC",
              description = "A topic whose partitions to reset, repeatable.")
          List<String> topics,
      @Option(names = "--all-topics", description = "Every topic the group has offsets for.")
          boolean allTopics,
      @ArgGroup(exclusive = true, multiplicity = "1") Target target,
      @Option(names = "--execute", description = "Apply the plan (default: only show it).")
          boolean execute)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    if ((topics == null) == !allTopics) {
      throw new picocli.CommandLine.ParameterException(
          spec.subcommands().get("reset-offsets"),
          "name the partitions: --topic TOPIC (repeatable) or --all-topics");
    }
    try (Admin admin = run.admin()) {
      final ConsumerGroupDescription d = describeGroup(run, admin, group);
      if (execute && !d.members().isEmpty()) {
        throw new CliException(
            "group '"
                + group
                + "' has "
                + d.members().size()
                + " active members; stop its consumers first (state "
                + d.groupState()
                + ")");
      }
      final Map<TopicPartition, OffsetAndMetadata> committed = committed(run, admin, group);
      final List<TopicPartition> partitions = new ArrayList<>();
      if (allTopics) {
        partitions.addAll(sorted(committed.keySet()));
      } else {
        TopicCommand.describeAll(run, admin, topics)
            .forEach(
                (name, t) ->
                    t.partitions()
                        .forEach(p -> partitions.add(new TopicPartition(name, p.partition()))));
      }
      final Map<TopicPartition, Long> earliest =
          offsets(run, admin, partitions, OffsetSpec.earliest());
      final Map<TopicPartition, Long> latest = offsets(run, admin, partitions, OffsetSpec.latest());
      final Map<TopicPartition, Long> atTime =
          target.datetime == null
              ? Map.of()
              : offsets(
                  run,
                  admin,
                  partitions,
                  OffsetSpec.forTimestamp(instant(target.datetime).toEpochMilli()));
      final Map<TopicPartition, OffsetAndMetadata> plan = new TreeMap<>(GroupCommand::compare);
      final ObjectNode data = Printer.object().put("group", group).put("executed", execute);
      final ArrayNode rows = data.putArray("offsets");
      final Table table = new Table("TOPIC", "PARTITION", "FROM", "TO");
      for (TopicPartition tp : partitions) {
        final long from = committed.containsKey(tp) ? committed.get(tp).offset() : -1;
        final long lo = earliest.get(tp);
        final long hi = latest.get(tp);
        long to;
        if (target.earliest) {
          to = lo;
        } else if (target.latest) {
          to = hi;
        } else if (target.offset != null) {
          to = target.offset;
        } else if (target.shift != null) {
          to = (from < 0 ? lo : from) + target.shift;
        } else {
          to = atTime.get(tp) < 0 ? hi : atTime.get(tp);
        }
        to = Math.max(lo, Math.min(hi, to));
        plan.put(tp, new OffsetAndMetadata(to));
        rows.addObject()
            .put("topic", tp.topic())
            .put("partition", tp.partition())
            .put("from", from)
            .put("to", to);
        table.row(tp.topic(), tp.partition(), from < 0 ? null : from, to);
      }
      if (execute) {
        run.await(admin.alterConsumerGroupOffsets(group, plan).all());
      }
      run.printer()
          .print(
              data,
              out -> {
                table.print(out);
                out.println(
                    execute
                        ? "offsets of group " + group + " moved"
                        : "plan only; add --execute to apply it");
              });
    }
    return 0;
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description =
          "Delete consumer groups (with their committed offsets); they must have no active members.",
      footer = {"", "Examples:", "  skiff group delete billing", "  skiff group delete a b"})
  int delete(@Parameters(paramLabel = "GROUP", arity = "1..*") List<String> groups)
      throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final List<String> deleted = new ArrayList<>();
    try (Admin admin = run.admin()) {
      final var results = admin.deleteConsumerGroups(groups).deletedGroups();
      for (String group : groups) {
        try {
          run.await(results.get(group));
          deleted.add(group);
        } catch (GroupIdNotFoundException e) {
          throw new CliException(
              "unknown group '" + group + "'" + (deleted.isEmpty() ? "" : "; deleted " + deleted));
        } catch (Exception e) {
          throw new CliException(
              "group '"
                  + group
                  + "': "
                  + ErrorReport.describe(e)
                  + (deleted.isEmpty() ? "" : "; deleted " + deleted));
        }
      }
    }
    final ObjectNode data = Printer.object();
    final ArrayNode array = data.putArray("deleted");
    deleted.forEach(array::add);
    run.printer().print(data, out -> deleted.forEach(g -> out.println("deleted group " + g)));
    return 0;
  }

  private static ConsumerGroupDescription describeGroup(Invocation run, Admin admin, String group)
      throws Exception {
    final ConsumerGroupDescription d;
    try {
      d = run.await(admin.describeConsumerGroups(List.of(group)).describedGroups().get(group));
    } catch (GroupIdNotFoundException e) {
      throw new CliException("unknown group '" + group + "'; 'skiff group list' shows the groups");
    }
    if (d.groupState() == org.apache.kafka.common.GroupState.DEAD) {
      throw new CliException("unknown group '" + group + "'; 'skiff group list' shows the groups");
    }
    return d;
  }

  private static Map<TopicPartition, OffsetAndMetadata> committed(
      Invocation run, Admin admin, String group) throws Exception {
    final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    run.await(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata())
        .forEach(
            (tp, o) -> {
              if (o != null) {
                offsets.put(tp, o);
              }
            });
    return offsets;
  }

  private static Map<TopicPartition, Long> offsets(
      Invocation run, Admin admin, Collection<TopicPartition> partitions, OffsetSpec spec)
      throws Exception {
    if (partitions.isEmpty()) {
      return Map.of();
    }
    final Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    partitions.forEach(tp -> request.put(tp, spec));
    final Map<TopicPartition, ListOffsetsResultInfo> answer =
        run.await(admin.listOffsets(request).all());
    final Map<TopicPartition, Long> offsets = new HashMap<>();
    answer.forEach((tp, info) -> offsets.put(tp, info.offset()));
    return offsets;
  }

  private static Instant instant(String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an ISO-8601 instant such as 2026-12-04T10:00:00Z");
    }
  }

  private static List<TopicPartition> sorted(Collection<TopicPartition> partitions) {
    final List<TopicPartition> list = new ArrayList<>(partitions);
    list.sort(GroupCommand::compare);
    return list;
  }

  private static int compare(TopicPartition a, TopicPartition b) {
    final int byTopic = a.topic().compareTo(b.topic());
    return byTopic != 0 ? byTopic : Integer.compare(a.partition(), b.partition());
  }
}
