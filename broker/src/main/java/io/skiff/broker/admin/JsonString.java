package io.skiff.broker.admin;

/**
 * Quotes a Java string as a JSON string literal (RFC 8259 section 7), for the few JSON bodies the
 * admin server writes itself. Stateless and thread-safe.
 */
public final class JsonString {

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private JsonString() {}

  /**
   * Returns {@code text} in double quotes with {@code "}, {@code \} and control characters escaped.
   */
  public static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
