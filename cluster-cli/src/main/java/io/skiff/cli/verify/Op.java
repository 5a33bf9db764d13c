package io.skiff.cli.verify;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One event of a verification history, after Jepsen's operation maps: a process invokes an
 * operation ({@link Type#INVOKE}) and later completes it ({@link Type#OK} it happened, {@link
 * Type#FAIL} it certainly did not, {@link Type#INFO} unknown). A process runs one operation at a
 * time, so a completion belongs to its process's last invocation. The nemesis is process {@link
 * #NEMESIS_PROCESS}: its invocation starts a fault window, its completion ends it (healed).
 *
 * <p>Fields that do not apply to an operation are null (and left out of the JSON line):
 *
 * <pre>
 * f        invoke                        ok
 * SEND     partition, value              partition, value, offset
 * POLL     -                             reads (partition, offset, value) in delivery order
 * COMMIT   offsets (next offset to read) offsets
 * ASSIGN   -                             assigned (partitions now owned; positions reset)
 * NEMESIS  detail (the fault)            detail (how it was healed)
 * </pre>
 *
 * <p>Immutable.
 *
 * @param index position in the history: {@code a.index < b.index} means a was recorded before b
 * @param process the client (or nemesis) that performed it
 * @param timeNanos nanoseconds since the history began
 * @param partition topic-partition written, {@code "topic-3"}
 * @param value the unique value written
 * @param offset the offset the broker acknowledged for the value
 * @param reads records a poll returned
 * @param offsets committed offsets per partition
 * @param assigned partitions a consumer owns after a (re)assignment
 * @param detail error message of FAIL/INFO, the fault of a nemesis operation
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Op(
    long index,
    int process,
    Type type,
    Fn f,
    long timeNanos,
    String partition,
    Long value,
    Long offset,
    List<Read> reads,
    Map<String, Long> offsets,
    List<String> assigned,
    String detail) {

  /** The process number of the nemesis. */
  public static final int NEMESIS_PROCESS = -1;

  /** Whether an operation is starting or how it ended. */
  public enum Type {
    INVOKE,
    OK,
    FAIL,
    INFO
  }

  /** What an operation does. */
  public enum Fn {
    SEND,
    POLL,
    COMMIT,
    ASSIGN,
    NEMESIS
  }

  /** One record a poll returned. */
  public record Read(String partition, long offset, long value) {}

  /** Whether this is the completion of an operation (anything but an invocation). */
  public boolean completes() {
    return type != Type.INVOKE;
  }

  /** This operation with its index and time set, as a history stamps what it records. */
  Op stamped(long index, long timeNanos) {
    return new Op(
        index, process, type, f, timeNanos, partition, value, offset, reads, offsets, assigned,
        detail);
  }

  /** The invocation of a send of {@code value} to {@code partition}. */
  public static Op send(int process, String partition, long value) {
    return new Op(
        0, process, Type.INVOKE, Fn.SEND, 0, partition, value, null, null, null, null, null);
  }

  /** The broker acknowledged {@code value} at {@code offset}. */
  public static Op sent(int process, String partition, long value, long offset) {
    return new Op(
        0, process, Type.OK, Fn.SEND, 0, partition, value, offset, null, null, null, null);
  }

  /** A completion other than OK of the send of {@code value}: FAIL or INFO with the reason. */
  public static Op sendEnded(int process, Type type, String partition, long value, String why) {
    return new Op(0, process, type, Fn.SEND, 0, partition, value, null, null, null, null, why);
  }

  /** The invocation of a poll. */
  public static Op poll(int process) {
    return new Op(0, process, Type.INVOKE, Fn.POLL, 0, null, null, null, null, null, null, null);
  }

  /** A poll that returned {@code reads}. */
  public static Op polled(int process, List<Read> reads) {
    return new Op(
        0, process, Type.OK, Fn.POLL, 0, null, null, null, List.copyOf(reads), null, null, null);
  }

  /** The invocation of a commit of {@code offsets}. */
  public static Op commit(int process, Map<String, Long> offsets) {
    return new Op(
        0,
        process,
        Type.INVOKE,
        Fn.COMMIT,
        0,
        null,
        null,
        null,
        null,
        Map.copyOf(offsets),
        null,
        null);
  }

  /** A commit of {@code offsets} that completed with {@code type}. */
  public static Op committed(int process, Type type, Map<String, Long> offsets, String why) {
    return new Op(
        0, process, type, Fn.COMMIT, 0, null, null, null, null, Map.copyOf(offsets), null, why);
  }

  /** The invocation of an assignment (subscribe, rebalance or manual assign). */
  public static Op assign(int process) {
    return new Op(0, process, Type.INVOKE, Fn.ASSIGN, 0, null, null, null, null, null, null, null);
  }

  /** A consumer now owns {@code partitions}; its positions may have moved. */
  public static Op assigned(int process, List<String> partitions) {
    return new Op(
        0,
        process,
        Type.OK,
        Fn.ASSIGN,
        0,
        null,
        null,
        null,
        null,
        null,
        List.copyOf(partitions),
        null);
  }

  /** Any completion other than OK, of an operation that carries no other data. */
  public static Op ended(int process, Type type, Fn f, String why) {
    return new Op(0, process, type, f, 0, null, null, null, null, null, null, why);
  }

  /** A fault begins. */
  public static Op faultStarts(String fault) {
    return new Op(
        0, NEMESIS_PROCESS, Type.INVOKE, Fn.NEMESIS, 0, null, null, null, null, null, null, fault);
  }

  /** The fault begun by the nemesis' last invocation is healed. */
  public static Op faultHealed(String how) {
    return new Op(
        0, NEMESIS_PROCESS, Type.OK, Fn.NEMESIS, 0, null, null, null, null, null, null, how);
  }
}
