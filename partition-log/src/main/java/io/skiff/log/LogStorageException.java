package io.skiff.log;

import java.io.IOException;

/**
 * The storage under a log cannot take a write: the disk is full (or nearly so), or the file system
 * failed. The log itself is intact and readable; an append refused with this exception wrote
 * nothing, and the same append succeeds once space is freed. Kafka clients see {@code
 * KAFKA_STORAGE_ERROR}, which they retry.
 */
public final class LogStorageException extends IOException {
  private static final long serialVersionUID = 1L;

  public LogStorageException(String message) {
    super(message);
  }

  public LogStorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
