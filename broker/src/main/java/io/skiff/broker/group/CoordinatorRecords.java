package io.skiff.broker.group;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * The key/value layout of the records the coordinator writes to {@code __consumer_offsets}. Both
 * start with a version byte (0) so the layout can evolve; integers are big-endian; a string is a
 * 2-byte length (-1 for null) then UTF-8 bytes; bytes are a 4-byte length then the bytes. A record
 * with a null value is a tombstone: the offset, or the whole group, is deleted.
 *
 * <pre>
 * offset commit key                      offset commit value
 * +---------+--------+-------+-------+   +---------+--------+-------+----------+----------+
 * | version | type=0 | group | topic |   | version | offset | epoch | metadata | commit   |
 * | int8    | int8   | str   | str   |   | int8    | int64  | int32 | str      | ts int64 |
 * +---------+--------+-------+-------+   +---------+--------+-------+----------+----------+
 * | partition int32 |
 * +-----------------+
 *
 * group metadata key                     group metadata value
 * +---------+--------+-------+           +---------+---------------+------------+----------+
 * | version | type=1 | group |           | version | protocol type | generation | protocol |
 * | int8    | int8   | str   |           | int8    | str           | int32      | str      |
 * +---------+--------+-------+           +---------+---------------+------------+----------+
 *                                        | leader str | member count int32 | members...     |
 *                                        +------------+--------------------+----------------+
 * member: member id str | instance id str | client id str | client host str |
 *         rebalance timeout int32 | session timeout int32 | subscription bytes | assignment bytes
 * </pre>
 *
 * Stateless and thread-safe.
 */
public final class CoordinatorRecords {
  static final byte VERSION = 0;
  static final byte OFFSET_TYPE = 0;
  static final byte GROUP_TYPE = 1;

  private CoordinatorRecords() {}

  /** A decoded record: an offset commit or a group's metadata; a null value is a tombstone. */
  public sealed interface Decoded permits OffsetRecord, GroupRecord {
    String group();
  }

  public record OffsetRecord(String group, TopicPartition partition, CommittedOffset value)
      implements Decoded {}

  public record GroupRecord(String group, GroupMetadata value) implements Decoded {}

  /** One batch holding {@code records}, for {@code ReplicatedPartition.append}. */
  public static ByteBuffer batch(List<SimpleRecord> records) {
    return MemoryRecords.withRecords(Compression.NONE, records.toArray(SimpleRecord[]::new))
        .buffer();
  }

  public static SimpleRecord offset(
      long timestamp, String group, TopicPartition tp, CommittedOffset value) {
    final byte[] key =
        write(
            out -> {
              out.writeByte(VERSION);
              out.writeByte(OFFSET_TYPE);
              string(out, group);
              string(out, tp.topic());
              out.writeInt(tp.partition());
            });
    if (value == null) {
      return new SimpleRecord(timestamp, key, null);
    }
    return new SimpleRecord(
        timestamp,
        key,
        write(
            out -> {
              out.writeByte(VERSION);
              out.writeLong(value.offset());
              out.writeInt(value.leaderEpoch());
              string(out, value.metadata());
              out.writeLong(value.commitTimestamp());
            }));
  }

  public static SimpleRecord group(long timestamp, String group, GroupMetadata value) {
    final byte[] key =
        write(
            out -> {
              out.writeByte(VERSION);
              out.writeByte(GROUP_TYPE);
              string(out, group);
            });
    return new SimpleRecord(timestamp, key, value == null ? null : write(out -> group(out, value)));
  }

  private static void group(DataOutputStream out, GroupMetadata g) throws IOException {
    out.writeByte(VERSION);
    string(out, g.protocolType());
    out.writeInt(g.generation());
    string(out, g.protocol());
    string(out, g.leader());
    out.writeInt(g.members().size());
    for (GroupMetadata.Member m : g.members()) {
      string(out, m.memberId());
      string(out, m.instanceId());
      string(out, m.clientId());
      string(out, m.clientHost());
      out.writeInt(m.rebalanceTimeoutMs());
      out.writeInt(m.sessionTimeoutMs());
      bytes(out, m.subscription());
      bytes(out, m.assignment());
    }
  }

  /**
   * Decodes one record's key and value (value null for a tombstone).
   *
   * @throws IllegalArgumentException for an unknown version or type, or a truncated record
   */
  public static Decoded decode(ByteBuffer key, ByteBuffer value) {
    try {
      final DataInputStream k = input(key);
      final byte version = k.readByte();
      final byte type = k.readByte();
      if (version != VERSION) {
        throw new IllegalArgumentException("unknown coordinator record version " + version);
      }
      final String group = string(k);
      final DataInputStream v = value == null ? null : input(value);
      if (v != null && v.readByte() != VERSION) {
        throw new IllegalArgumentException("unknown coordinator value version in group " + group);
      }
      return switch (type) {
        case OFFSET_TYPE -> {
          final TopicPartition tp = new TopicPartition(string(k), k.readInt());
          yield new OffsetRecord(
              group,
              tp,
              v == null
                  ? null
                  : new CommittedOffset(v.readLong(), v.readInt(), string(v), v.readLong()));
        }
        case GROUP_TYPE -> new GroupRecord(group, v == null ? null : group(v));
        default -> throw new IllegalArgumentException("unknown coordinator record type " + type);
      };
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated coordinator record: " + e, e);
    }
  }

  private static GroupMetadata group(DataInputStream in) throws IOException {
    final String protocolType = string(in);
    final int generation = in.readInt();
    final String protocol = string(in);
    final String leader = string(in);
    final int count = in.readInt();
    final List<GroupMetadata.Member> members = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      members.add(
          new GroupMetadata.Member(
              string(in),
              string(in),
              string(in),
              string(in),
              in.readInt(),
              in.readInt(),
              bytes(in),
              bytes(in)));
    }
    return new GroupMetadata(protocolType, generation, protocol, leader, members);
  }

  @FunctionalInterface
  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private static byte[] write(Writer writer) {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writer.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen with an in-memory stream
    }
    return bytes.toByteArray();
  }

  private static DataInputStream input(ByteBuffer buffer) {
    final byte[] copy = new byte[buffer.remaining()];
    buffer.duplicate().get(copy);
    return new DataInputStream(new java.io.ByteArrayInputStream(copy));
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeShort(-1);
      return;
    }
    final byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    out.writeShort(utf8.length);
    out.write(utf8);
  }

  private static String string(DataInputStream in) throws IOException {
    final short length = in.readShort();
    if (length < 0) {
      return null;
    }
    final byte[] utf8 = new byte[length];
    in.readFully(utf8);
    return new String(utf8, StandardCharsets.UTF_8);
  }

  private static void bytes(DataOutputStream out, byte[] b) throws IOException {
    final byte[] value = b == null ? new byte[0] : b;
    out.writeInt(value.length);
    out.write(value);
  }

  private static byte[] bytes(DataInputStream in) throws IOException {
    final int length = in.readInt();
    if (length < 0 || length > in.available()) {
      throw new IOException("byte field of " + length + " bytes exceeds the record");
    }
    final byte[] b = new byte[length];
    in.readFully(b);
    return b;
  }
}
