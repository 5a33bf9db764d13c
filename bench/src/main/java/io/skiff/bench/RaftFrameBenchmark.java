package io.skiff.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.netty.NettyProtobufCodec;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StateMachineEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.proto.netty.NettyProtos.RaftNettyServerRequestProto;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.io.netty.buffer.ByteBuf;
import org.apache.ratis.thirdparty.io.netty.buffer.PooledByteBufAllocator;
import org.apache.ratis.thirdparty.io.netty.channel.embedded.EmbeddedChannel;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufEncoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import org.apache.ratis.thirdparty.io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Raft transport's framing of one AppendEntries request between brokers (Ratis' Netty
 * transport), {@code codec}:
 *
 * <ul>
 *   <li>{@code netty}: Netty's protobuf handlers, as released Ratis uses them ({@code
 *       ProtobufEncoder} serialises into a byte array, {@code ProtobufVarint32LengthFieldPrepender}
 *       copies it behind its length into a pooled buffer; {@code ProtobufDecoder} copies a direct
 *       frame into a byte array and parses that);
 *   <li>{@code skiff}: {@link NettyProtobufCodec} (Ratis patch 0018: serialised with its length
 *       straight into one pooled buffer; parsed from the frame's own buffer).
 * </ul>
 *
 * <p>{@code encode}: one request written through the pipeline, its frame taken and released. {@code
 * decode}: one frame (a pooled direct buffer, as a socket read leaves it) read through the pipeline
 * into a request. The request carries {@code entries} log entries of {@code entryBytes} bytes of
 * state machine data (a produce batch each). Both run on an {@link EmbeddedChannel}, the same
 * pipeline machinery for both codecs. Run with {@code -prof gc} for the bytes allocated per
 * operation. Primary result: operations/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {RaftFrameBenchmark.UNSAFE_MEMORY_ACCESS, "-Xms1g", "-Xmx1g"})
@Threads(1)
public class RaftFrameBenchmark {
  /** Ratis' shaded protobuf and Netty use sun.misc.Unsafe (as in deploy/jvm/runtime.options). */
  static final String UNSAFE_MEMORY_ACCESS = "--sun-misc-unsafe-memory-access=allow";

  @Param({"netty", "skiff"})
  public String codec;

  @Param({"1", "8"})
  public int entries;

  @Param({"16384"})
  public int entryBytes;

  private RaftNettyServerRequestProto request;
  private EmbeddedChannel channel;
  private ByteBuf frame;

  @Setup
  public void setUp() {
    request = appendEntries(entries, entryBytes);
    channel = newChannel(codec);
    channel.writeOutbound(request);
    final ByteBuf written = channel.readOutbound();
    frame = PooledByteBufAllocator.DEFAULT.directBuffer(written.readableBytes());
    frame.writeBytes(written);
    written.release();
    channel.writeInbound(frame.retainedDuplicate());
    final RaftNettyServerRequestProto read = channel.readInbound();
    if (!request.equals(read)) {
      throw new IllegalStateException(codec + " did not read back what it wrote");
    }
  }

  @TearDown
  public void tearDown() {
    frame.release();
    channel.finishAndReleaseAll();
  }

  @Benchmark
  public int encode() {
    channel.writeOutbound(request);
    final ByteBuf written = channel.readOutbound();
    final int length = written.readableBytes();
    written.release();
    return length;
  }

  @Benchmark
  public RaftNettyServerRequestProto decode() {
    channel.writeInbound(frame.retainedDuplicate());
    return channel.readInbound();
  }

  private static EmbeddedChannel newChannel(String codec) {
    final EmbeddedChannel channel = new EmbeddedChannel();
    switch (codec) {
      case "netty" ->
          channel
              .pipeline()
              .addLast(
                  new ProtobufVarint32FrameDecoder(),
                  new ProtobufDecoder(RaftNettyServerRequestProto.getDefaultInstance()),
                  new ProtobufVarint32LengthFieldPrepender(),
                  new ProtobufEncoder());
      case "skiff" ->
          NettyProtobufCodec.addTo(
              channel.pipeline(), RaftNettyServerRequestProto.getDefaultInstance());
      default -> throw new IllegalArgumentException("codec: netty or skiff, got " + codec);
    }
    return channel;
  }

  /** A leader's request to a follower: entries with random state machine data (batches). */
  private static RaftNettyServerRequestProto appendEntries(int entries, int entryBytes) {
    final SplittableRandom random = new SplittableRandom(BenchSupport.SEED);
    final AppendEntriesRequestProto.Builder append =
        AppendEntriesRequestProto.newBuilder()
            .setServerRequest(
                RaftRpcRequestProto.newBuilder()
                    .setRequestorId(ByteString.copyFromUtf8("1"))
                    .setReplyId(ByteString.copyFromUtf8("2"))
                    .setCallId(7))
            .setLeaderTerm(3)
            .setLeaderCommit(1000);
    for (int i = 0; i < entries; i++) {
      final byte[] data = new byte[entryBytes];
      random.nextBytes(data);
      append.addEntries(
          LogEntryProto.newBuilder()
              .setTerm(3)
              .setIndex(1001 + i)
              .setStateMachineLogEntry(
                  StateMachineLogEntryProto.newBuilder()
                      .setLogData(ByteString.copyFrom(new byte[72]))
                      .setStateMachineEntry(
                          StateMachineEntryProto.newBuilder()
                              .setStateMachineData(ByteString.copyFrom(data)))));
    }
    return RaftNettyServerRequestProto.newBuilder().setAppendEntriesRequest(append).build();
  }
}
