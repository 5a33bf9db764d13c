package io.skiff.broker.admin;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A Dropwizard metric name translated to a Prometheus family name and label set.
 *
 * <p>The Dropwizard name may end with a label suffix in square brackets:
 *
 * <pre>
 *   partition.log.size.bytes[topic=orders,partition=3]
 *   └───────── base ───────┘└──────── labels ─────────┘
 *
 *   → family  skiff_partition_log_size_bytes
 *   → labels  {partition="3",topic="orders"}
 * </pre>
 *
 * <p>The base is prefixed with {@value #PREFIX} and every character outside {@code [a-zA-Z0-9_:]}
 * becomes {@code _}. Label names are sanitised the same way (without the colon); label values are
 * kept verbatim and escaped when rendered. Labels are sorted by name so that the same set written
 * in a different order is the same series. A suffix that does not parse (no {@code =}, an empty or
 * repeated label name) is not treated as labels: the whole name is then sanitised as a plain base,
 * which keeps the metric visible instead of dropping it.
 *
 * <p>Immutable and thread-safe.
 *
 * @param family the sanitised, prefixed Prometheus family name
 * @param labels the labels, sorted by name
 */
record PrometheusName(String family, List<Label> labels) {

  /** Prefix of every Skiff family name. */
  static final String PREFIX = "skiff_";

  /**
   * One Prometheus label.
   *
   * @param name sanitised label name
   * @param value raw label value, escaped on rendering
   */
  record Label(String name, String value) {}

  PrometheusName {
    labels = List.copyOf(labels);
  }

  /** Parses {@code base.name[label=value,...]} or a plain {@code base.name}. */
  static PrometheusName parse(String dropwizardName) {
    int open = dropwizardName.indexOf('[');
    if (open > 0 && dropwizardName.endsWith("]")) {
      List<Label> labels =
          parseLabels(dropwizardName.substring(open + 1, dropwizardName.length() - 1));
      if (labels != null) {
        return new PrometheusName(sanitiseFamily(dropwizardName.substring(0, open)), labels);
      }
    }
    return new PrometheusName(sanitiseFamily(dropwizardName), List.of());
  }

  /** Returns the labels as {@code {a="x",b="y"}}, or the empty string when there are none. */
  String renderLabels() {
    return renderLabels(null, null);
  }

  /**
   * Returns the labels with one extra label appended last (used for {@code quantile}), as {@code
   * {a="x",quantile="0.5"}}; an extra name of {@code null} adds nothing.
   */
  String renderLabels(String extraName, String extraValue) {
    if (labels.isEmpty() && extraName == null) {
      return "";
    }
    StringBuilder out = new StringBuilder().append('{');
    for (Label label : labels) {
      appendLabel(out, label.name(), label.value());
    }
    if (extraName != null) {
      appendLabel(out, extraName, extraValue);
    }
    out.setCharAt(out.length() - 1, '}');
    return out.toString();
  }

  private static void appendLabel(StringBuilder out, String name, String value) {
    out.append(name).append("=\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '"' -> out.append("\\\"");
        case '\n' -> out.append("\\n");
        default -> out.append(c);
      }
    }
    out.append("\",");
  }

  /** Returns the parsed labels, or {@code null} when the suffix is not a valid label list. */
  private static List<Label> parseLabels(String suffix) {
    List<Label> labels = new ArrayList<>();
    for (String pair : suffix.split(",", -1)) {
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? "" : pair.substring(0, eq).trim();
      if (rawName.isEmpty()) {
        return null;
      }
      String name = sanitiseLabelName(rawName);
      if (labels.stream().anyMatch(label -> label.name().equals(name))) {
        return null;
      }
      labels.add(new Label(name, pair.substring(eq + 1)));
    }
    labels.sort(Comparator.comparing(Label::name));
    return labels;
  }

  private static String sanitiseFamily(String base) {
    return PREFIX + sanitise(base, true);
  }

  /** A label name may not start with a digit; the family name never does thanks to the prefix. */
  private static String sanitiseLabelName(String name) {
    String sanitised = sanitise(name, false);
    return Character.isDigit(sanitised.charAt(0)) ? "_" + sanitised : sanitised;
  }

  /** Replaces every character outside {@code [a-zA-Z0-9_]} (plus {@code :} when allowed). */
  private static String sanitise(String name, boolean allowColon) {
    StringBuilder out = new StringBuilder(name.length() + 1);
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean valid =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '_'
              || (allowColon && c == ':');
      out.append(valid ? c : '_');
    }
    return out.toString();
  }
}
