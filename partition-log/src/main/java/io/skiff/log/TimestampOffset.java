package io.skiff.log;

/**
 * A timestamp and the offset it was found at, as ListOffsets answers.
 *
 * @param timestamp the batch or record timestamp found, -1 when unknown
 * @param offset the offset
 */
public record TimestampOffset(long timestamp, long offset) {}
