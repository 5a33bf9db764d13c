package io.skiff.raft.partition;

/**
 * Where an append landed.
 *
 * @param baseOffset offset of the first record
 * @param nextOffset offset after the last record
 */
public record AppendResult(long baseOffset, long nextOffset) {}
