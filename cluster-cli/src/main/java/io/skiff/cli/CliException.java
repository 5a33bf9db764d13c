package io.skiff.cli;

/**
 * An operation that failed for a reason the operator can act on; its message is printed as it is,
 * after the command's name, and the command exits with 1.
 */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }
}
