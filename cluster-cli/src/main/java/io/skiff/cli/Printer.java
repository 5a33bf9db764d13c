package io.skiff.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Prints a command's result in the chosen format: for people, the command's own text (aligned
 * {@link Table}s); for scripts, the same data as JSON (one document, keys in a fixed order,
 * snake_case) or YAML. Not thread-safe (one per run).
 */
final class Printer {
  /** The {@code --output} formats. */
  enum Format {
    TEXT,
    JSON,
    YAML
  }

  /** Reads {@code text|json|yaml} in any case, naming the choices when it is none of them. */
  static final class FormatConverter implements ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      try {
        return Format.valueOf(value.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(
            "'" + value + "' is not an output format; use text, json or yaml");
      }
    }
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper YAML =
      new ObjectMapper(
          new YAMLFactory()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));

  private final Format format;
  private final PrintWriter out;

  Printer(Format format, PrintWriter out) {
    this.format = format;
    this.out = out;
  }

  Format format() {
    return format;
  }

  boolean isText() {
    return format == Format.TEXT;
  }

  /** Prints {@code data} as JSON or YAML, or, for people, whatever {@code text} writes. */
  void print(JsonNode data, Consumer<PrintWriter> text) {
    switch (format) {
      case TEXT -> text.accept(out);
      case JSON -> out.println(write(JSON, data));
      case YAML -> out.print(write(YAML, data));
    }
    out.flush();
  }

  /** One line of JSON (for records streamed one by one), whatever the format. */
  void printLine(JsonNode data) {
    try {
      out.println(new ObjectMapper().writeValueAsString(data));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    out.flush();
  }

  private static String write(ObjectMapper mapper, JsonNode data) {
    try {
      return mapper.writeValueAsString(data);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  static ArrayNode array() {
    return JsonNodeFactory.instance.arrayNode();
  }

  static ArrayNode ints(Iterable<Integer> values) {
    final ArrayNode array = array();
    values.forEach(array::add);
    return array;
  }
}
