package io.skiff.broker.api;

import java.util.ArrayList;
import java.util.List;

/**
 * A list-typed config value, Kafka's comma-separated items ({@code cleanup.policy=delete,compact}),
 * with the edits IncrementalAlterConfigs' APPEND and SUBTRACT make. Immutable.
 *
 * @param items the items in order, trimmed, none empty
 */
record ListValue(List<String> items) {
  ListValue {
    items = List.copyOf(items);
  }

  /** Parses {@code a, b,c}; null or blank is the empty list. */
  static ListValue parse(String value) {
    final List<String> items = new ArrayList<>();
    if (value != null) {
      for (String item : value.split(",")) {
        if (!item.isBlank()) {
          items.add(item.trim());
        }
      }
    }
    return new ListValue(items);
  }

  /** Adds the items not already present, in order (APPEND). */
  ListValue append(ListValue added) {
    final List<String> merged = new ArrayList<>(items);
    added.items.stream().filter(i -> !merged.contains(i)).forEach(merged::add);
    return new ListValue(merged);
  }

  /** Removes every occurrence of the given items (SUBTRACT). */
  ListValue subtract(ListValue removed) {
    final List<String> kept = new ArrayList<>(items);
    kept.removeAll(removed.items);
    return new ListValue(kept);
  }

  @Override
  public String toString() {
    return String.join(",", items);
  }
}
