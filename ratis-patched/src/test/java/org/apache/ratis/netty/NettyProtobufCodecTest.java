package org.apache.ratis.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StateMachineEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.io.netty.buffer.ByteBuf;
import org.apache.ratis.thirdparty.io.netty.buffer.ByteBufUtil;
import org.apache.ratis.thirdparty.io.netty.buffer.PooledByteBufAllocator;
import org.apache.ratis.thirdparty.io.netty.buffer.Unpooled;
import org.apache.ratis.thirdparty.io.netty.channel.embedded.EmbeddedChannel;
import org.apache.ratis.thirdparty.io.netty.handler.codec.CorruptedFrameException;
import org.apache.ratis.thirdparty.io.netty.handler.codec.TooLongFrameException;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufEncoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import org.junit.jupiter.api.Test;

/**
 * Checks Skiff's Ratis patch 0018: {@link NettyProtobufCodec} writes the bytes Netty's protobuf
 * handlers wrote, and reads back what it wrote from pooled direct buffers, whole or cut anywhere,
 * with messages that keep their data after the buffers are released; and patch 0023: with a frame
 * limit (the server's pipeline) it reads the same, and fails a frame over the limit or a length
 * that is no varint32 as soon as the length is read.
 */
class NettyProtobufCodecTest {
  private static final PooledByteBufAllocator POOLED = new PooledByteBufAllocator(true);

  @Test
  void writesTheBytesNettysProtobufHandlersWrote() {
    for (int entries : new int[] {0, 1, 6}) {
      for (int size : new int[] {0, 1, 127, 128, 1024, 300_000}) {
        final RaftNettyServerRequestProto request = appendEntries(entries, size, entries + size);

        final EmbeddedChannel patched = new EmbeddedChannel();
        NettyProtobufCodec.addTo(
            patched.pipeline(), RaftNettyServerRequestProto.getDefaultInstance());
        patched.writeOutbound(request);

        assertThat(outbound(patched))
            .as("%d entries of %d bytes", entries, size)
            .isEqualTo(frame(request));
      }
    }
  }

  @Test
  void readsBackEachMessageFromPooledDirectBuffersCutAnywhere() {
    final RaftNettyServerRequestProto first = appendEntries(2, 40, 1);
    final RaftNettyServerRequestProto second = appendEntries(1, 200, 2);
    final byte[] wire = concat(frame(first), frame(second));
    final int longest = Math.max(first.getSerializedSize(), second.getSerializedSize());

    for (int limit : new int[] {-1, longest, 64 << 20}) {
      for (int cut = 0; cut <= wire.length; cut++) {
        final EmbeddedChannel channel = channel(limit);
        final ByteBuf head = direct(wire, 0, cut);
        final ByteBuf tail = direct(wire, cut, wire.length - cut);

        channel.writeInbound(head);
        channel.writeInbound(tail);

        assertThat(inbound(channel))
            .as("limit %d, cut at %d", limit, cut)
            .containsExactly(first, second);
        assertThat(head.refCnt()).as("first buffer released").isZero();
        assertThat(tail.refCnt()).as("second buffer released").isZero();
      }
    }
  }

  @Test
  void aFrameOverTheLimitFailsWhenItsLengthIsRead() {
    final RaftNettyServerRequestProto request = appendEntries(1, 1000, 3);
    final byte[] wire = frame(request);
    final int lengthBytes = wire.length - request.getSerializedSize();
    final EmbeddedChannel channel = channel(request.getSerializedSize() - 1);

    // Only the length: the frame itself never has to arrive.
    final ByteBuf length = direct(wire, 0, lengthBytes);
    assertThatThrownBy(() -> channel.writeInbound(length))
        .isInstanceOf(TooLongFrameException.class)
        .hasMessageContaining("over the limit");
    assertThat(length.refCnt()).isZero();
    assertThat(inbound(channel)).isEmpty();
  }

  @Test
  void aLengthThatIsNoVarint32Fails() {
    final byte[] sixByteLength = {-1, -1, -1, -1, -1, 1, 0, 0};
    final EmbeddedChannel channel = channel(64 << 20);
    final ByteBuf bytes = direct(sixByteLength, 0, sixByteLength.length);

    assertThatThrownBy(() -> channel.writeInbound(bytes))
        .isInstanceOf(CorruptedFrameException.class);
    assertThat(inbound(channel)).isEmpty();
  }

  @Test
  void aLengthOfFiveBytesUnderTheLimitWaitsForItsFrame() {
    // 2^28 + 1 written in five bytes, under a limit of 2^29: nothing to read yet, no failure.
    final byte[] length = {(byte) 0x81, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01};
    final EmbeddedChannel channel = channel(1 << 29);

    channel.writeInbound(direct(length, 0, length.length));

    assertThat(inbound(channel)).isEmpty();
    channel.checkException();
    channel.finishAndReleaseAll();
  }

  /** A channel with the codec, limit -1 for the pipeline without a frame limit. */
  private static EmbeddedChannel channel(int limit) {
    final EmbeddedChannel channel = new EmbeddedChannel();
    if (limit < 0) {
      NettyProtobufCodec.addTo(
          channel.pipeline(), RaftNettyServerRequestProto.getDefaultInstance());
    } else {
      NettyProtobufCodec.addTo(
          channel.pipeline(), RaftNettyServerRequestProto.getDefaultInstance(), limit);
    }
    return channel;
  }

  @Test
  void aReadMessageOwnsItsDataAfterTheFrameIsReleasedAndReused() {
    final RaftNettyServerRequestProto request = appendEntries(3, 4096, 7);
    final byte[] wire = frame(request);
    final EmbeddedChannel channel = new EmbeddedChannel();
    NettyProtobufCodec.addTo(channel.pipeline(), RaftNettyServerRequestProto.getDefaultInstance());
    final ByteBuf buffer = direct(wire, 0, wire.length);

    channel.writeInbound(buffer);
    final RaftNettyServerRequestProto read = channel.readInbound();
    assertThat(buffer.refCnt()).isZero();
    // The pool hands the same memory (and buffer object) out again: overwrite it all.
    final ByteBuf reused = POOLED.directBuffer(wire.length);
    reused.writeZero(wire.length);

    assertThat(read).isEqualTo(request);
    reused.release();
  }

  /** An AppendEntries request with entries whose state machine data is size random bytes. */
  private static RaftNettyServerRequestProto appendEntries(int entries, int size, long seed) {
    final Random random = new Random(seed);
    final AppendEntriesRequestProto.Builder append =
        AppendEntriesRequestProto.newBuilder()
            .setServerRequest(
                RaftRpcRequestProto.newBuilder()
                    .setRequestorId(ByteString.copyFromUtf8("s0"))
                    .setReplyId(ByteString.copyFromUtf8("s1"))
                    .setCallId(seed))
            .setLeaderTerm(3)
            .setLeaderCommit(41);
    for (int i = 0; i < entries; i++) {
      final byte[] data = new byte[size];
      random.nextBytes(data);
      append.addEntries(
          LogEntryProto.newBuilder()
              .setTerm(3)
              .setIndex(42 + i)
              .setStateMachineLogEntry(
                  StateMachineLogEntryProto.newBuilder()
                      .setLogData(ByteString.copyFromUtf8("header " + i))
                      .setStateMachineEntry(
                          StateMachineEntryProto.newBuilder()
                              .setStateMachineData(ByteString.copyFrom(data)))));
    }
    return RaftNettyServerRequestProto.newBuilder().setAppendEntriesRequest(append).build();
  }

  /** The frame Netty's protobuf handlers write for the message. */
  private static byte[] frame(RaftNettyServerRequestProto message) {
    final EmbeddedChannel released =
        new EmbeddedChannel(new ProtobufVarint32LengthFieldPrepender(), new ProtobufEncoder());
    released.writeOutbound(message);
    return outbound(released);
  }

  private static byte[] outbound(EmbeddedChannel channel) {
    final ByteBuf all = Unpooled.buffer();
    for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
      all.writeBytes(b);
      b.release();
    }
    return ByteBufUtil.getBytes(all);
  }

  private static List<RaftNettyServerRequestProto> inbound(EmbeddedChannel channel) {
    final List<RaftNettyServerRequestProto> messages = new ArrayList<>();
    for (RaftNettyServerRequestProto m; (m = channel.readInbound()) != null; ) {
      messages.add(m);
    }
    return messages;
  }

  private static ByteBuf direct(byte[] bytes, int offset, int length) {
    return POOLED.directBuffer(Math.max(length, 1)).writeBytes(bytes, offset, length);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    final byte[] all = new byte[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
