package io.skiff.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code skiff produce}: writes records to a topic for a quick check, one per line of input (or per
 * {@code --value}), acknowledged by all in-sync replicas and idempotent. One run at a time.
 */
@Command(
    name = "produce",
    mixinStandardHelpOptions = true,
    description = "Write records to a topic, one per line of stdin, FILE or --value.",
    footer = {
      "",
      "Examples:",
      "  echo hello | skiff produce demo",
      "  skiff produce demo --value a --value b",
      "  printf 'k1:v1\\nk2:v2\\n' | skiff produce demo --key-separator :"
    })
final class ProduceCommand implements java.util.concurrent.Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to write to.")
  String topic;

  @Option(
      names = "--value",
      paramLabel = "VALUE",
      description = "A record value, repeatable (instead of input lines).")
  List<String> values;

  @Option(
      names = {"-f", "--file"},
      paramLabel = "FILE",
      description = "Read lines from FILE instead of stdin.")
  Path file;

  @Option(
      names = {"-K", "--key-separator"},
      paramLabel = "SEP",
      description = "Split each line at the first SEP into key and value.")
  String keySeparator;

  @Option(
      names = {"-p", "--partition"},
      description = "Write to this partition (default: by key, else sticky).")
  Integer partition;

  @Override
  public Integer call() throws Exception {
    final Invocation run = SkiffCli.invocation(spec);
    try (org.apache.kafka.clients.admin.Admin admin = run.admin()) {
      TopicCommand.describeAll(run, admin, List.of(topic)); // an unknown topic fails here, named
    }
    final Properties p = run.clientProperties();
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(run.timeout().toMillis()));
    p.put(
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
        // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms.
        Long.toString(
            Math.max(
                    run.timeout().toMillis(),
                    Long.parseLong(p.getProperty(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG)))
                + 1_000));
    final List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      final BufferedReader lines = input();
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        String key = null;
        String value = line;
        if (keySeparator != null && line.contains(keySeparator)) {
          key = line.substring(0, line.indexOf(keySeparator));
          value = line.substring(line.indexOf(keySeparator) + keySeparator.length());
        }
        sent.add(producer.send(new ProducerRecord<>(topic, partition, key, value)));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get();
      }
    }
    final ObjectNode data = Printer.object().put("topic", topic).put("records", sent.size());
    run.printer().print(data, out -> out.printf("produced %d records to %s%n", sent.size(), topic));
    return 0;
  }

  /** The lines to send: the --value options, FILE, or stdin (read as they come). */
  private BufferedReader input() throws java.io.IOException {
    if (values != null) {
      return new BufferedReader(new java.io.StringReader(String.join("\n", values)));
    }
    if (file != null) {
      if (!Files.isReadable(file)) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "cannot read " + file);
      }
      return Files.newBufferedReader(file, StandardCharsets.UTF_8);
    }
    return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
  }
}
