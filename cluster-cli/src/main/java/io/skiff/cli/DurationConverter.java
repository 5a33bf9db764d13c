package io.skiff.cli;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a duration as operators write it: {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}, or an
 * ISO-8601 {@code PT10S}; a bare number is seconds. Stateless; thread-safe.
 */
final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    final Duration duration = parse(value);
    if (duration.isNegative() || duration.isZero()) {
      throw new TypeConversionException("'" + value + "' is not a positive duration");
    }
    return duration;
  }

  static Duration parse(String value) {
    final String v = value.strip().toLowerCase(Locale.ROOT);
    try {
      if (v.startsWith("pt") || v.startsWith("p")) {
        return Duration.parse(v.toUpperCase(Locale.ROOT));
      }
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      }
      final char unit = v.isEmpty() ? ' ' : v.charAt(v.length() - 1);
      final String number = Character.isDigit(unit) ? v : v.substring(0, v.length() - 1);
      final long n = Long.parseLong(number);
      return switch (unit) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> {
          if (!Character.isDigit(unit)) {
            throw new NumberFormatException();
          }
          yield Duration.ofSeconds(n);
        }
      };
    } catch (RuntimeException e) {
      throw new TypeConversionException(
          "'" + value + "' is not a duration; write e.g. 500ms, 10s, 2m or 1h");
    }
  }
}
