package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
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
 * up to the end offsets it found when it started, or on with {@code --follow}. Without a group it
 * fetches itself through the memory profile's bounded fetch buffer ({@link BufferedConsumer}: one
 * fetcher per leader broker, a global cap of {@code --buffer-bytes}, round-robin drain); with
 * {@code --group} it is a KafkaConsumer group member (joins, rebalances and commits as Kafka's
 * consumer does), its fetches bounded by {@code --buffer-bytes} per response. Text prints one value
 * per line; JSON and YAML print one JSON object per record per line. One run at a time.
 */
@Command(
    name = "consume",
    mixinStandardHelpOptions = true,
    description = {
      "Read a topic's records (to its current end, or on with --follow).",
      "Without --group, each partition is fetched from its leader through one bounded fetch"
          + " buffer (--buffer-bytes, shared by all partitions, drained round-robin). With"
          + " --group, Kafka's consumer reads as a group member and commits at the end."
    },
    footer = {
      "",
      "Examples:",
      "  skiff consume demo",
      "  skiff consume demo --from end --follow",
      "  skiff consume demo -n 10 --print-key -o json",
      "  skiff consume demo --buffer-bytes 262144 -o json   # stats line on stderr",
      "  skiff consume demo --group billing   # from the group's offsets, committing"
    })
final class ConsumeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to read.")
  String topic;

  @Option(
      names = "--from",
      paramLabel = "beginning|end|OFFSET",
      defaultValue = "beginning",
      description =
          "Where to start in each partition (default: ${DEFAULT-VALUE}); an offset outside the"
              + " log starts at its nearer end.")
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
          "Read as a member of this consumer group, with Kafka's consumer: from its committed"
              + " offsets (new groups from the beginning), committing what was read at the end.")
  String group;

  @Option(names = "--follow", description = "Keep reading new records until interrupted.")
  boolean follow;

  @Option(names = "--print-key", description = "Print KEY<TAB>VALUE (text output).")
  boolean printKey;

  @Option(
      names = "--buffer-bytes",
      paramLabel = "BYTES",
      defaultValue = "10485760",
      description =
          "Cap on fetched but not yet printed bytes, all partitions together (default:"
              + " ${DEFAULT-VALUE}, the memory profile's 10 MiB fetch response bound; each"
              + " partition fetches at most a quarter of it, up to 1 MiB). At least 65536."
              + " With --group: the consumer's fetch.max.bytes.")
  long bufferBytes;

  @Override
  public Integer call() throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    final long startOffset = startOffset();
    if (bufferBytes < BufferedConsumer.MIN_BUFFER_BYTES) {
      throw new ParameterException(
          spec.commandLine(),
          "--buffer-bytes must be at least " + BufferedConsumer.MIN_BUFFER_BYTES);
    }
    try (Admin admin = run.admin()) {
      final List<TopicPartition> partitions = partitions(run, admin);
      if (group != null) {
        return consumeAsMember(run, partitions);
      }
      final Map<TopicPartition, Long> end = offsets(run, admin, partitions, OffsetSpec.latest());
      final Map<TopicPartition, Long> start =
          startOffsets(run, admin, partitions, startOffset, end);
      try (BufferedConsumer consumer =
          new BufferedConsumer(
              admin,
              run.clientProperties(),
              topic,
              bufferBytes,
              startOffset == -1,
              run.timeout())) {
        consumer.start(start);
        final long read = drain(run, consumer, end);
        printSummary(run, read, consumer.stats());
      }
    }
    return 0;
  }

  private List<TopicPartition> partitions(Invocation run, Admin admin) throws Exception {
    final int count =
        TopicCommand.describeAll(run, admin, List.of(topic)).get(topic).partitions().size();
    if (partition != null && (partition < 0 || partition >= count)) {
      throw new CliException(
          "topic '" + topic + "' has no partition " + partition + " (it has " + count + ")");
    }
    return partition != null
        ? List.of(new TopicPartition(topic, partition))
        : java.util.stream.IntStream.range(0, count)
            .mapToObj(p -> new TopicPartition(topic, p))
            .toList();
  }

  /** Where each partition starts; an offset outside the log starts at its nearer end. */
  private static Map<TopicPartition, Long> startOffsets(
      Invocation run,
      Admin admin,
      List<TopicPartition> partitions,
      long from,
      Map<TopicPartition, Long> end)
      throws Exception {
    if (from == -1) {
      return end;
    }
    final Map<TopicPartition, Long> start = offsets(run, admin, partitions, OffsetSpec.earliest());
    if (from >= 0) {
      start.replaceAll((tp, earliest) -> Math.max(earliest, Math.min(from, end.get(tp))));
    }
    return start;
  }

  private static Map<TopicPartition, Long> offsets(
      Invocation run, Admin admin, List<TopicPartition> partitions, OffsetSpec spec)
      throws Exception {
    final Map<TopicPartition, OffsetSpec> asked = new HashMap<>();
    partitions.forEach(tp -> asked.put(tp, spec));
    final Map<TopicPartition, Long> offsets = new HashMap<>();
    run.await(admin.listOffsets(asked).all()).forEach((tp, info) -> offsets.put(tp, info.offset()));
    return offsets;
  }

  /**
   * Prints records until every partition reached its end (or --max-messages); returns the count.
   */
  private long drain(Invocation run, BufferedConsumer consumer, Map<TopicPartition, Long> end)
      throws Exception {
    long read = 0;
    final long deadline = System.nanoTime() + run.timeout().toNanos();
    while ((follow || !reachedEnd(consumer, end)) && (maxMessages == null || read < maxMessages)) {
      if (!follow && System.nanoTime() > deadline) {
        throw new CliException(
            "read "
                + read
                + " records but did not reach the end of "
                + topic
                + " within --timeout");
      }
      for (BufferedConsumer.ConsumedRecord r : consumer.poll(Duration.ofMillis(200))) {
        if (maxMessages != null && read >= maxMessages) {
          break;
        }
        print(run, r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
        read++;
      }
    }
    return read;
  }

  private static boolean reachedEnd(BufferedConsumer consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** The summary on stderr: a line for people, or one JSON object of stats for scripts. */
  private void printSummary(Invocation run, long read, BufferedConsumer.Stats stats) {
    if (run.printer().isText()) {
      run.err()
          .println(
              "read "
                  + read
                  + " records from "
                  + topic
                  + " (fetch buffer peak "
                  + stats.peakBytes()
                  + " of "
                  + stats.bufferBytes()
                  + " bytes)");
      run.err().flush();
      return;
    }
    final ObjectNode json = Printer.object();
    json.put("records", read);
    json.put("topic", topic);
    json.put("buffer_bytes", stats.bufferBytes());
    json.put("buffer_peak_bytes", stats.peakBytes());
    json.put("buffer_waits", stats.waits());
    json.put("oversized_batches", stats.oversized());
    json.put("chunks", stats.chunks());
    json.put("fetched_bytes", stats.bytes());
    json.put("leader_changes", stats.leaderChanges());
    new Printer(Printer.Format.JSON, run.err()).printLine(json);
  }

  /** Reads as a KafkaConsumer member of {@code group}, committing what it read at the end. */
  private int consumeAsMember(Invocation run, List<TopicPartition> partitions) throws Exception {
    long read = 0;
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(properties(run), new StringDeserializer(), new StringDeserializer())) {
      final Map<TopicPartition, Long> end = consumer.endOffsets(partitions, run.timeout());
      joinGroup(consumer);
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
          print(run, r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
          read++;
        }
      }
      consumer.commitSync(run.timeout());
    }
    if (run.printer().isText()) {
      run.err().println("read " + read + " records from " + topic + " as group " + group);
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

  private void print(
      Invocation run, int partition, long offset, long timestamp, String key, String value) {
    if (run.printer().isText()) {
      run.out().println(printKey ? key + "\t" + value : value);
      run.out().flush();
      return;
    }
    final ObjectNode record = Printer.object();
    record.put("partition", partition);
    record.put("offset", offset);
    record.put("timestamp", timestamp);
    record.put("key", key);
    record.put("value", value);
    run.printer().printLine(record);
  }

  private Properties properties(Invocation run) {
    final Properties p = run.clientProperties();
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Long.toString(bufferBytes));
    p.put(
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
        Long.toString(Math.min(1 << 20, bufferBytes / 4)));
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    return p;
  }
}
