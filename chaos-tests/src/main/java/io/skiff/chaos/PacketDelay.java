package io.skiff.chaos;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Delays packets in user space, for kernels without {@code sch_netem}: an iptables rule sends them
 * to netfilter queue {@code N} ({@code -j NFQUEUE --queue-num N --queue-bypass}), and this program
 * holds each one for the delay (plus a random jitter) before it lets it go. Order is kept: a packet
 * never leaves before one queued ahead of it, so jitter stretches the gaps instead of reordering
 * (netem with jitter may reorder).
 *
 * <p>It speaks the kernel's {@code nfnetlink_queue} protocol on a netlink socket through the
 * Foreign Function API, so it needs nothing but a Java runtime (a broker image has no C tool chain
 * and no {@code libnetfilter_queue}) and root with {@code CAP_NET_ADMIN}. The queue copies only
 * packet metadata to user space; every verdict is a batch verdict accepting every packet up to the
 * newest one due, so a lost queue notification cannot strand a packet. The queue fails open: when
 * it is full the kernel lets packets through undelayed rather than dropping them.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp DIR io.skiff.chaos.PacketDelay QUEUE
 * DELAY_MS JITTER_MS}; prints {@code ready} once bound, then runs until killed. Runs as a process
 * of its own (see {@link NetemNemesis}); uses only JDK classes.
 *
 * <p>Thread-safety: two threads, one receiving packet notifications, one sending verdicts, sharing
 * the socket (netlink allows it) and a blocking queue.
 */
public final class PacketDelay {
  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int NETLINK_NETFILTER = 12;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVBUFFORCE = 33;
  private static final int SOL_NETLINK = 270;
  private static final int NETLINK_NO_ENOBUFS = 5;

  private static final int NLM_F_REQUEST = 1;
  private static final int NLM_F_ACK = 4;
  private static final int NLMSG_ERROR = 2;
  private static final int NLMSG_HEADER = 16;
  private static final int NFGENMSG = 4;

  private static final int NFNL_SUBSYS_QUEUE = 3;
  private static final int NFQNL_MSG_PACKET = NFNL_SUBSYS_QUEUE << 8;
  private static final int NFQNL_MSG_CONFIG = NFNL_SUBSYS_QUEUE << 8 | 2;
  private static final int NFQNL_MSG_VERDICT_BATCH = NFNL_SUBSYS_QUEUE << 8 | 3;
  private static final int NFQA_PACKET_HDR = 1;
  private static final int NFQA_VERDICT_HDR = 2;
  private static final int NFQA_CFG_CMD = 1;
  private static final int NFQA_CFG_PARAMS = 2;
  private static final int NFQA_CFG_QUEUE_MAXLEN = 3;
  private static final int NFQA_CFG_MASK = 4;
  private static final int NFQA_CFG_FLAGS = 5;
  private static final int NFQNL_CFG_CMD_BIND = 1;
  private static final int NFQNL_COPY_META = 1;
  private static final int NFQA_CFG_F_FAIL_OPEN = 1;
  private static final int NF_ACCEPT = 1;
  private static final int QUEUE_MAXLEN = 1 << 16;
  private static final int RECEIVE_BUFFER = 8 << 20;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
  private static final VarHandle ERRNO_VALUE =
      Linker.Option.captureStateLayout()
          .varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle SOCKET =
      handle("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle BIND =
      handle("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle SETSOCKOPT =
      handle(
          "setsockopt",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle SEND =
      handle("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  private static final MethodHandle RECV =
      handle("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

  private final int queue;
  private final long delayNanos;
  private final long jitterNanos;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment errno = arena.allocate(Linker.Option.captureStateLayout());
  private final MemorySegment sendErrno = arena.allocate(Linker.Option.captureStateLayout());
  private final LinkedBlockingQueue<long[]> held = new LinkedBlockingQueue<>();
  private int fd = -1;
  private int sequence;

  private PacketDelay(int queue, long delayNanos, long jitterNanos) {
    this.queue = queue;
    this.delayNanos = delayNanos;
    this.jitterNanos = jitterNanos;
  }

  public static void main(String[] args) throws Throwable {
    if (args.length != 3) {
      System.err.println("usage: PacketDelay QUEUE DELAY_MS JITTER_MS");
      System.exit(2);
    }
    final PacketDelay delay =
        new PacketDelay(
            Integer.parseInt(args[0]),
            Long.parseLong(args[1]) * 1_000_000,
            Long.parseLong(args[2]) * 1_000_000);
    delay.open();
    System.out.println("ready");
    System.out.flush();
    final Thread verdicts = new Thread(delay::releaseDue, "verdicts");
    verdicts.setDaemon(true);
    verdicts.start();
    delay.receive();
  }

  private void open() throws Throwable {
    fd = (int) SOCKET.invokeExact(errno, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
    check(fd, "socket(AF_NETLINK, NETLINK_NETFILTER)");
    final MemorySegment address = arena.allocate(12); // sockaddr_nl, all but the family zero
    address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_NETLINK);
    check((int) BIND.invokeExact(errno, fd, address, 12), "bind");
    setOption(SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER);
    setOption(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1);

    ByteBuffer m = message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK);
    attribute(m, NFQA_CFG_CMD, 4).put((byte) NFQNL_CFG_CMD_BIND).put((byte) 0).putShort((short) 0);
    request(m, "bind queue " + queue);

    m = message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK);
    attribute(m, NFQA_CFG_PARAMS, 5).putInt(0).put((byte) NFQNL_COPY_META);
    pad(m);
    attribute(m, NFQA_CFG_QUEUE_MAXLEN, 4).putInt(QUEUE_MAXLEN);
    attribute(m, NFQA_CFG_MASK, 4).putInt(NFQA_CFG_F_FAIL_OPEN);
    attribute(m, NFQA_CFG_FLAGS, 4).putInt(NFQA_CFG_F_FAIL_OPEN);
    request(m, "configure queue " + queue);
  }

  /** Reads packet notifications and queues each packet id with the time it may leave. */
  private void receive() throws Throwable {
    final MemorySegment buffer = arena.allocate(1 << 16);
    long lastDue = 0;
    while (true) {
      final long n = (long) RECV.invokeExact(errno, fd, buffer, buffer.byteSize(), 0);
      if (n < 0) {
        if (errno() == 4 || errno() == 105) { // EINTR, ENOBUFS: batch verdicts cover the gap
          continue;
        }
        throw new IOException("recv failed: errno " + errno());
      }
      final ByteBuffer b = buffer.asSlice(0, n).asByteBuffer().order(ByteOrder.nativeOrder());
      for (int at = 0; at + NLMSG_HEADER <= n; ) {
        final int length = b.getInt(at);
        final int type = b.getShort(at + 4) & 0xffff;
        if (length < NLMSG_HEADER) {
          break;
        }
        if (type == NFQNL_MSG_PACKET) {
          final long id = packetId(b, at + NLMSG_HEADER + NFGENMSG, at + length);
          if (id >= 0) {
            final long jitter =
                jitterNanos == 0 ? 0 : ThreadLocalRandom.current().nextLong(jitterNanos + 1);
            lastDue = Math.max(lastDue, System.nanoTime() + delayNanos + jitter);
            held.add(new long[] {id, lastDue});
          }
        } else if (type == NLMSG_ERROR && b.getInt(at + NLMSG_HEADER) != 0) {
          System.err.println("netlink error " + -b.getInt(at + NLMSG_HEADER));
        }
        at += align(length);
      }
    }
  }

  /** Accepts, oldest first, every held packet whose time has come. */
  private void releaseDue() {
    try {
      while (true) {
        long[] next = held.take();
        long wait;
        while ((wait = next[1] - System.nanoTime()) > 0) {
          LockSupport.parkNanos(wait);
        }
        long id = next[0];
        final long now = System.nanoTime();
        while ((next = held.peek()) != null && next[1] <= now) {
          id = held.poll()[0];
        }
        final ByteBuffer m = message(NFQNL_MSG_VERDICT_BATCH, NLM_F_REQUEST);
        attribute(m, NFQA_VERDICT_HDR, 8).putInt(NF_ACCEPT).putInt((int) id);
        send(m);
      }
    } catch (Throwable e) {
      e.printStackTrace();
      System.exit(1);
    }
  }

  private static long packetId(ByteBuffer b, int from, int to) {
    for (int at = from; at + 4 <= to; ) {
      final int length = b.getShort(at) & 0xffff;
      final int type = b.getShort(at + 2) & 0x3fff;
      if (length < 4) {
        return -1;
      }
      if (type == NFQA_PACKET_HDR) {
        return Integer.toUnsignedLong(b.slice(at + 4, 4).order(ByteOrder.BIG_ENDIAN).getInt());
      }
      at += align(length);
    }
    return -1;
  }

  private ByteBuffer message(int type, int flags) {
    final ByteBuffer m = ByteBuffer.allocate(128).order(ByteOrder.nativeOrder());
    m.putInt(0).putShort((short) type).putShort((short) flags).putInt(++sequence).putInt(0);
    m.put((byte) 0).put((byte) 0); // nfgenmsg: AF_UNSPEC, NFNETLINK_V0
    m.order(ByteOrder.BIG_ENDIAN).putShort((short) queue);
    return m;
  }

  /** Starts an attribute of {@code size} payload bytes; the payload is written big-endian. */
  private static ByteBuffer attribute(ByteBuffer m, int type, int size) {
    m.order(ByteOrder.nativeOrder()).putShort((short) (4 + size)).putShort((short) type);
    return m.order(ByteOrder.BIG_ENDIAN);
  }

  private static void pad(ByteBuffer m) {
    while (m.position() % 4 != 0) {
      m.put((byte) 0);
    }
  }

  private void request(ByteBuffer m, String what) throws Throwable {
    send(m);
    final MemorySegment buffer = arena.allocate(4096);
    final long n = (long) RECV.invokeExact(errno, fd, buffer, buffer.byteSize(), 0);
    check((int) n, what);
    final ByteBuffer b = buffer.asSlice(0, n).asByteBuffer().order(ByteOrder.nativeOrder());
    if ((b.getShort(4) & 0xffff) == NLMSG_ERROR && b.getInt(NLMSG_HEADER) != 0) {
      throw new IOException(
          what + " refused: errno " + -b.getInt(NLMSG_HEADER) + " (is nfnetlink_queue loaded?)");
    }
  }

  private void send(ByteBuffer m) throws Throwable {
    pad(m);
    final int length = m.position();
    m.order(ByteOrder.nativeOrder()).putInt(0, length);
    try (Arena call = Arena.ofConfined()) {
      final MemorySegment out = call.allocate(length);
      out.copyFrom(MemorySegment.ofArray(m.array()).asSlice(0, length));
      final long sent = (long) SEND.invokeExact(sendErrno, fd, out, (long) length, 0);
      if (sent < 0) {
        throw new IOException("send failed: errno " + (int) ERRNO_VALUE.get(sendErrno, 0L));
      }
    }
  }

  private void setOption(int level, int option, int value) throws Throwable {
    final MemorySegment v = arena.allocate(JAVA_INT);
    v.set(JAVA_INT, 0, value);
    check((int) SETSOCKOPT.invokeExact(errno, fd, level, option, v, 4), "setsockopt " + option);
  }

  private void check(int result, String what) throws IOException {
    if (result < 0) {
      throw new IOException(what + " failed: errno " + errno());
    }
  }

  private int errno() {
    return (int) ERRNO_VALUE.get(errno, 0L);
  }

  private static int align(int length) {
    return (length + 3) & ~3;
  }

  @SuppressWarnings("restricted") // the point of this class; run with --enable-native-access
  private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), descriptor, ERRNO);
  }
}
