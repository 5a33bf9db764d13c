package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code skiff consume}: reads a topic's records for a quick check, from every partition (or one),
 * up to the end offsets it found when it started, or on with {@code --follow}. The consumer's
 * fetches are bounded ({@code fetch.max.bytes} 1 MiB, {@code max.partition.fetch.bytes} 256 KiB),
 * so its buffered bytes stay small whatever the topic holds. Text prints one value per line; JSON
 * and YAML print one JSON object per record per line. One run at a time.
 */
@Command(
    name = "consume",
    mixinStandardHelpOptions = true,
    description = "Read a topic's records (to its current end, or on with --follow).",
    footer = {
      "",
      "Examples:",
      "  skiff consume demo",
      "  skiff consume demo --from end --follow",
      "  skiff consume demo -n 10 --print-key -o json",
      "  skiff consume demo --group billing          # from the group's offsets, committing"
    })
final class ConsumeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to read.")
  String topic;

  @Option(
      names = "--from",
      paramLabel = "beginning|end|OFFSET",
      defaultValue = "beginning",
      description = "Where to start in each partition (default: ${DEFAULT-VALUE}).")
  String from;

  @Option(
      names = {"-p", "--partition"},
      description = "Read only this partition.")
  Integer partition;

  @Option(
      names = {"-n", "--max-messages"},
      description = "Stop after this many records.")
  Long maxMessages;

  @Option(
      names = {"-g", "--group"},
      description =
          "Read as a member of this consumer group: from its committed offsets (new groups from"
              + " the beginning), committing what was read at the end.")
  String group;

  @Option(names = "--follow", description = "Keep reading new records until interrupted.")
  boolean follow;

  @Option(names = "--print-key", description = "Print KEY<TAB>VALUE (text output).")
  boolean printKey;

  @Override
  public Integer call() throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final long startOffset = startOffset();
    final List<TopicPartition> partitions;
    try (org.apache.kafka.clients.admin.Admin admin = run.admin()) {
      final int count =
          TopicCommand.describeAll(run, admin, List.of(topic)).get(topic).partitions().size();
      if (partition != null && (partition < 0 || partition >= count)) {
        throw new CliException(
            "topic '" + topic + "' has no partition " + partition + " (it has " + count + ")");
      }
      partitions =
          partition != null
              ? List.of(new TopicPartition(topic, partition))
              : java.util.stream.IntStream.range(0, count)
                  .mapToObj(p -> new TopicPartition(topic, p))
                  .toList();
    }
    long read = 0;
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(properties(run), new StringDeserializer(), new StringDeserializer())) {
      final Map<TopicPartition, Long> end = consumer.endOffsets(partitions, run.timeout());
      if (group == null) {
        consumer.assign(partitions);
        seek(consumer, partitions, startOffset);
      } else {
        joinGroup(consumer);
      }
      final long deadline = System.nanoTime() + run.timeout().toNanos();
      while ((follow || !reachedEnd(consumer, end))
          && (maxMessages == null || read < maxMessages)) {
        if (!follow && System.nanoTime() > deadline) {
          throw new CliException(
              "read "
                  + read
                  + " records but did not reach the end of "
                  + topic
                  + " within --timeout");
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          if (maxMessages != null && read >= maxMessages) {
            break;
          }
          print(run, r);
          read++;
        }
      }
      if (group != null) {
        consumer.commitSync(run.timeout());
      }
    }
    if (run.printer().isText()) {
      run.err()
          .println(
              "read "
                  + read
                  + " records from "
                  + topic
                  + (group == null ? "" : " as group " + group));
    }
    return 0;
  }

  /** Subscribes as a member of {@code group}; the polls that follow join it. */
  private void joinGroup(KafkaConsumer<String, String> consumer) {
    if (partition != null || !"beginning".equals(from)) {
      throw new ParameterException(
          spec.commandLine(),
          "--group reads from the group's offsets; drop --partition and --from");
    }
    consumer.subscribe(List.of(topic));
  }

  private long startOffset() {
    return switch (from) {
      case "beginning" -> -2;
      case "end" -> -1;
      default -> {
        try {
          final long offset = Long.parseLong(from);
          if (offset < 0) {
            throw new NumberFormatException();
          }
          yield offset;
        } catch (NumberFormatException e) {
          throw new ParameterException(
              spec.commandLine(), "--from must be beginning, end or an offset, not '" + from + "'");
        }
      }
    };
  }

  private static void seek(
      KafkaConsumer<?, ?> consumer, List<TopicPartition> partitions, long start) {
    if (start == -2) {
      consumer.seekToBeginning(partitions);
    } else if (start == -1) {
      consumer.seekToEnd(partitions);
    } else {
      partitions.forEach(tp -> consumer.seek(tp, start));
    }
  }

  private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    if (!consumer.assignment().containsAll(end.keySet())) {
      return false; // a group member still joining
    }
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void print(Invocation run, ConsumerRecord<String, String> r) {
    if (run.printer().isText()) {
      run.out().println(printKey ? r.key() + "\t" + r.value() : r.value());
      run.out().flush();
      return;
    }
    final ObjectNode record = Printer.object();
    record.put("partition", r.partition());
    record.put("offset", r.offset());
    record.put("timestamp", r.timestamp());
    record.put("key", r.key());
    record.put("value", r.value());
    run.printer().printLine(record);
  }

  private Properties properties(Invocation run) {
    final Properties p = run.clientProperties();
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(1 << 20));
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(256 << 10));
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    if (group != null) {
      p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    }
    return p;
  }
}
