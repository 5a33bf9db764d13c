package io.skiff.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A table for people: a header and rows, each column as wide as its widest cell, columns two spaces
 * apart; numbers are right-aligned. Not thread-safe.
 */
final class Table {
  private final String[] header;
  private final List<String[]> rows = new ArrayList<>();

  Table(String... header) {
    this.header = header;
  }

  Table row(Object... cells) {
    if (cells.length != header.length) {
      throw new IllegalArgumentException(
          cells.length + " cells for " + header.length + " columns: " + Arrays.toString(cells));
    }
    rows.add(Arrays.stream(cells).map(Table::cell).toArray(String[]::new));
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  void print(PrintWriter out) {
    final int[] width = new int[header.length];
    final boolean[] numeric = new boolean[header.length];
    Arrays.fill(numeric, !rows.isEmpty());
    for (int c = 0; c < header.length; c++) {
      width[c] = header[c].length();
      for (String[] row : rows) {
        width[c] = Math.max(width[c], row[c].length());
        numeric[c] &= row[c].matches("-?\\d+(\\.\\d+)?");
      }
    }
    line(out, header, width, numeric);
    rows.forEach(row -> line(out, row, width, numeric));
  }

  private static void line(PrintWriter out, String[] cells, int[] width, boolean[] numeric) {
    final StringBuilder line = new StringBuilder();
    for (int c = 0; c < cells.length; c++) {
      final String pad = " ".repeat(width[c] - cells[c].length());
      if (c > 0) {
        line.append("  ");
      }
      line.append(numeric[c] ? pad + cells[c] : cells[c] + (c == cells.length - 1 ? "" : pad));
    }
    out.println(line);
  }

  private static String cell(Object value) {
    if (value == null) {
      return "-";
    }
    if (value instanceof List<?> list) {
      return list.isEmpty() ? "-" : String.join(",", list.stream().map(String::valueOf).toList());
    }
    return String.valueOf(value);
  }
}
