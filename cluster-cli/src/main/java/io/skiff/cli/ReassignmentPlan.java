package io.skiff.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * A reassignment plan in Kafka's JSON, as {@code kafka-reassign-partitions.sh} reads and writes it:
 *
 * <pre>
 * {"version": 1,
 *  "partitions": [{"topic": "orders", "partition": 0, "replicas": [1, 2, 4],
 *                  "log_dirs": ["any", "any", "any"]}, ...]}      (log_dirs optional, only "any")
 * </pre>
 *
 * Parsing checks the shape and names the first thing wrong; whether the topics, partitions and
 * brokers exist is checked against the cluster before anything is applied. Immutable.
 */
record ReassignmentPlan(Map<TopicPartition, List<Integer>> targets) {
  ReassignmentPlan {
    targets = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(targets));
  }

  static ReassignmentPlan parse(String json, String source) {
    final JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          source
              + " is not JSON: "
              + e.getOriginalMessage()
              + " at line "
              + e.getLocation().getLineNr());
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(
          source + ": expected {\"version\":1,\"partitions\":[...]}");
    }
    if (root.path("version").asInt(-1) != 1) {
      throw new IllegalArgumentException(source + ": \"version\" must be 1");
    }
    final JsonNode partitions = root.path("partitions");
    if (!partitions.isArray()) {
      throw new IllegalArgumentException(source + ": \"partitions\" must be an array");
    }
    final Map<TopicPartition, List<Integer>> targets = new LinkedHashMap<>();
    int i = 0;
    for (JsonNode p : partitions) {
      final String where = source + ": partitions[" + i++ + "]";
      if (!p.path("topic").isTextual() || p.path("topic").asText().isEmpty()) {
        throw new IllegalArgumentException(where + ": \"topic\" must be a topic name");
      }
      if (!p.path("partition").isInt() || p.path("partition").asInt() < 0) {
        throw new IllegalArgumentException(where + ": \"partition\" must be a partition number");
      }
      final TopicPartition tp =
          new TopicPartition(p.path("topic").asText(), p.path("partition").asInt());
      final List<Integer> replicas = replicas(p.path("replicas"), where);
      final JsonNode dirs = p.path("log_dirs");
      if (!dirs.isMissingNode()) {
        if (!dirs.isArray() || dirs.size() != replicas.size()) {
          throw new IllegalArgumentException(
              where + ": \"log_dirs\" must have one entry per replica");
        }
        dirs.forEach(
            d -> {
              if (!"any".equals(d.asText())) {
                throw new IllegalArgumentException(
                    where
                        + ": log_dirs other than \"any\" are not supported (one data dir per broker)");
              }
            });
      }
      if (targets.put(tp, replicas) != null) {
        throw new IllegalArgumentException(where + ": " + name(tp) + " appears twice");
      }
    }
    if (targets.isEmpty()) {
      throw new IllegalArgumentException(source + ": \"partitions\" is empty");
    }
    return new ReassignmentPlan(targets);
  }

  /** Reads {@code 1,2,4}-style or JSON-array replica lists, naming a repeat or a non-number. */
  static List<Integer> replicas(JsonNode array, String where) {
    if (!array.isArray() || array.isEmpty()) {
      throw new IllegalArgumentException(
          where + ": \"replicas\" must be a non-empty array of broker ids");
    }
    final List<Integer> replicas = new ArrayList<>();
    for (JsonNode r : array) {
      if (!r.isInt()) {
        throw new IllegalArgumentException(where + ": replica " + r + " is not a broker id");
      }
      replicas.add(r.asInt());
    }
    if (new HashSet<>(replicas).size() != replicas.size()) {
      throw new IllegalArgumentException(where + ": replicas " + replicas + " name a broker twice");
    }
    return List.copyOf(replicas);
  }

  /**
   * Checks the plan against the cluster: every topic and partition exists, every replica is a
   * broker of the cluster. Throws {@link CliException} naming the first that is not.
   */
  void check(ClusterSnapshot snapshot) {
    final Set<Integer> brokers = snapshot.brokerIds();
    targets.forEach(
        (tp, replicas) -> {
          final var topic = snapshot.topics().get(tp.topic());
          if (topic == null) {
            throw new CliException(TopicCommand.unknown(tp.topic()));
          }
          if (tp.partition() >= topic.partitions().size()) {
            throw new CliException(
                "topic '"
                    + tp.topic()
                    + "' has no partition "
                    + tp.partition()
                    + " (it has "
                    + topic.partitions().size()
                    + ")");
          }
          for (int r : replicas) {
            if (!brokers.contains(r)) {
              throw new CliException(
                  "broker "
                      + r
                      + " (in the replicas of "
                      + name(tp)
                      + ") is not in the cluster; brokers: "
                      + brokers);
            }
          }
        });
  }

  ObjectNode toJson() {
    final ObjectNode root = Printer.object().put("version", 1);
    final ArrayNode partitions = root.putArray("partitions");
    targets.forEach(
        (tp, replicas) -> {
          final ObjectNode p =
              partitions.addObject().put("topic", tp.topic()).put("partition", tp.partition());
          p.set("replicas", Printer.ints(replicas));
          final ArrayNode dirs = p.putArray("log_dirs");
          replicas.forEach(r -> dirs.add("any"));
        });
    return root;
  }

  static String name(TopicPartition tp) {
    return tp.topic() + "/" + tp.partition();
  }
}
