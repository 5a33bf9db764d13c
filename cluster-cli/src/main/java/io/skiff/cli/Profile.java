package io.skiff.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Defaults of the global options, below what the command line says: the environment ({@code
 * SKIFF_BOOTSTRAP}, {@code SKIFF_ADMIN}, {@code SKIFF_OUTPUT}, {@code SKIFF_TIMEOUT}), then the
 * profile file ({@code $XDG_CONFIG_HOME/skiff/skiff.properties}, else {@code
 * ~/.config/skiff/skiff.properties}, keys {@code bootstrap}, {@code admin}, {@code output}, {@code
 * timeout}), then the option's own default. Immutable; thread-safe.
 */
record Profile(Map<String, String> env, Properties file, Path path)
    implements IDefaultValueProvider {
  private static final String[] KEYS = {"bootstrap", "admin", "output", "timeout"};

  /** The profile of the user running the command. */
  static Profile ofUser(Map<String, String> env) {
    final String xdg = env.get("XDG_CONFIG_HOME");
    final Path config =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".config");
    return load(env, config.resolve("skiff").resolve("skiff.properties"));
  }

  /** The environment {@code env} and the profile file at {@code path} (absent: none). */
  static Profile load(Map<String, String> env, Path path) {
    final Properties properties = new Properties();
    if (Files.isRegularFile(path)) {
      try (Reader reader = Files.newBufferedReader(path)) {
        properties.load(reader);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot read the profile " + path + ": " + e.getMessage(), e);
      }
    }
    for (String key : properties.stringPropertyNames()) {
      if (!java.util.Arrays.asList(KEYS).contains(key)) {
        throw new IllegalArgumentException(
            "unknown key '" + key + "' in " + path + "; known: " + String.join(", ", KEYS));
      }
    }
    return new Profile(Map.copyOf(env), properties, path);
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option) || !option.longestName().startsWith("--")) {
      return null;
    }
    final String key = option.longestName().substring(2);
    if (!java.util.Arrays.asList(KEYS).contains(key)) {
      return null;
    }
    final String fromEnv = env.get("SKIFF_" + key.toUpperCase(java.util.Locale.ROOT));
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.strip();
    }
    final String fromFile = file.getProperty(key);
    return fromFile == null || fromFile.isBlank() ? null : fromFile.strip();
  }
}
