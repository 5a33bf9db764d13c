package io.skiff.raft.leadership;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.ObjLongConsumer;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.retry.RetryPolicies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One liveness signal per broker pair, shared by every Raft group of this server: each other
 * broker's Raft server is probed every {@code interval} (a group-info request for the metadata
 * group, which every broker hosts as a voter or a listener: a small reply that proves the peer's
 * Raft server answers), and a peer none of whose probes succeeded for {@code timeout} counts as
 * unreachable. Groups keep long election timeouts, so that idle groups exchange few heartbeats, and
 * {@link LeaderTakeover} elects new leaders for the groups an unreachable broker led.
 *
 * <pre>
 *   tracked ──(no successful probe for timeout)──▶ unreachable
 *      ▲                                                │
 *      └──────────────(a probe succeeds)────────────────┘
 * </pre>
 *
 * A peer starts reachable when it is first tracked (a grace of one timeout), as does every peer
 * when this node starts. The state changes only in {@link #evaluate}, so that every reader sees the
 * same answer between two evaluations; a peer this node does not track (not in the metadata) counts
 * as reachable.
 *
 * <p>Thread-safe. Probes run on one platform thread per peer, {@code skiff-liveness-<self>-<peer>},
 * each with its own Ratis client; {@link #start} also starts {@code skiff-liveness-<self>}, which
 * evaluates every interval and then runs the tick given to it. {@link #close} stops them all. The
 * clock is passed in, so the state machine can be driven without probes.
 */
public final class PeerLiveness implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PeerLiveness.class);

  /** A peer became unreachable ({@code reachable} false) or reachable again. */
  public record Transition(RaftPeerId peer, boolean reachable, long silentNanos) {}

  private final RaftPeerId self;
  private final LongSupplier clock;
  private final long intervalNanos;
  private final long timeoutNanos;
  private final RaftGroupId probedGroup;
  private final RaftProperties clientProperties;

  /** Tracked peers: when a probe last succeeded (or tracking began) and the evaluated state. */
  private final Map<RaftPeerId, Peer> peers = new HashMap<>(); // guarded by this

  private volatile Set<RaftPeerId> unreachable = Set.of();
  private volatile Set<RaftPeerId> reachable = Set.of();
  private volatile Map<RaftPeerId, Long> reachableSince = Map.of();
  private volatile boolean running;
  private Thread ticker;

  private static final class Peer {
    final RaftPeer address;
    long lastSeenNanos;
    boolean reachable = true;

    /** When this peer was first tracked or last came back from unreachable. */
    long reachableSinceNanos;

    volatile boolean stopped;
    Thread prober;

    Peer(RaftPeer address, long now) {
      this.address = address;
      this.lastSeenNanos = now;
      this.reachableSinceNanos = now;
    }
  }

  /**
   * @param probedGroup the group whose info a probe asks for (the metadata group)
   * @param clientProperties transport of the probes' Ratis clients
   */
  public PeerLiveness(
      RaftPeerId self,
      LongSupplier clock,
      long intervalMs,
      long timeoutMs,
      RaftGroupId probedGroup,
      RaftProperties clientProperties) {
    this.self = self;
    this.clock = clock;
    this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
    this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    this.probedGroup = probedGroup;
    this.clientProperties = clientProperties;
  }

  /**
   * Tracks exactly {@code current} (this node left out): a new peer starts reachable with a grace
   * of one timeout and, once started, is probed; a peer no longer listed is dropped, its prober
   * stopped.
   */
  public synchronized void track(Collection<RaftPeer> current) {
    final long now = clock.getAsLong();
    final Map<RaftPeerId, RaftPeer> wanted = new HashMap<>();
    for (RaftPeer p : current) {
      if (!p.getId().equals(self)) {
        wanted.put(p.getId(), p);
      }
    }
    for (var it = peers.entrySet().iterator(); it.hasNext(); ) {
      final var e = it.next();
      final RaftPeer listed = wanted.get(e.getKey());
      if (listed == null || !listed.getAddress().equals(e.getValue().address.getAddress())) {
        stopProber(e.getValue());
        it.remove();
      }
    }
    wanted.forEach(
        (id, address) -> {
          if (!peers.containsKey(id)) {
            final Peer peer = new Peer(address, now);
            peers.put(id, peer);
            if (running) {
              startProber(peer);
            }
          }
        });
    publishUnreachable();
  }

  /** A probe of {@code peer} succeeded at {@code nowNanos}. */
  synchronized void probeSucceeded(RaftPeerId peer, long nowNanos) {
    final Peer p = peers.get(peer);
    if (p != null && nowNanos - p.lastSeenNanos > 0) {
      p.lastSeenNanos = nowNanos;
    }
  }

  /**
   * Credits every reachable peer with {@code stallNanos} of silence when this node itself stalled
   * (a GC pause, a starved CPU) for longer than an interval: its probes could not run, which says
   * nothing about the peers. An unreachable peer is not credited: only a successful probe brings it
   * back (crediting it would count a dead broker reachable again after each stall of this node,
   * such as the election burst its own takeover starts).
   */
  synchronized void excuse(long stallNanos) {
    if (stallNanos > intervalNanos) {
      LOG.debug(
          "Liveness checks of {} stalled {} ms; reachable peers are not blamed for it",
          self,
          stallNanos / 1_000_000);
      peers.values().stream().filter(p -> p.reachable).forEach(p -> p.lastSeenNanos += stallNanos);
    }
  }

  /**
   * Moves every peer silent for longer than the timeout to unreachable, and every unreachable peer
   * probed since back to reachable.
   *
   * @return the peers whose state changed
   */
  synchronized List<Transition> evaluate(long nowNanos) {
    final List<Transition> changes = new ArrayList<>();
    peers.forEach(
        (id, p) -> {
          final long silent = nowNanos - p.lastSeenNanos;
          final boolean reachable = silent <= timeoutNanos;
          if (reachable != p.reachable) {
            p.reachable = reachable;
            if (reachable) {
              p.reachableSinceNanos = nowNanos;
            }
            changes.add(new Transition(id, reachable, silent));
          }
        });
    if (!changes.isEmpty()) {
      publishUnreachable();
    }
    return changes;
  }

  private void publishUnreachable() {
    final Map<Boolean, List<RaftPeerId>> byState =
        peers.entrySet().stream()
            .collect(
                Collectors.partitioningBy(
                    e -> e.getValue().reachable,
                    Collectors.mapping(Map.Entry::getKey, Collectors.toList())));
    unreachable = Set.copyOf(byState.get(false));
    reachable = Set.copyOf(byState.get(true));
    reachableSince =
        peers.entrySet().stream()
            .filter(e -> e.getValue().reachable)
            .collect(
                Collectors.toUnmodifiableMap(
                    Map.Entry::getKey, e -> e.getValue().reachableSinceNanos));
  }

  /** Whether {@code peer} counts as reachable now; this node and untracked peers always do. */
  boolean reachable(RaftPeerId peer) {
    return !unreachable.contains(peer);
  }

  /**
   * Whether {@code peer} counts as reachable and {@code atNanos} (when it was heard from) is no
   * earlier than when it last became reachable: what it said then was said after any partition
   * between the two brokers had healed. An untracked peer counts as reachable all along.
   */
  public boolean reachableSince(RaftPeerId peer, long atNanos) {
    if (unreachable.contains(peer)) {
      return false;
    }
    final Long since = reachableSince.get(peer);
    return since == null || atNanos - since >= 0;
  }

  /** The peers unreachable as of the last evaluation. */
  public Set<RaftPeerId> unreachable() {
    return unreachable;
  }

  /**
   * The tracked peers reachable as of the last evaluation: unlike {@link #reachable}, a peer this
   * node does not track is not among them.
   */
  public Set<RaftPeerId> reachableTracked() {
    return reachable;
  }

  /** The peers tracked now (this node excluded). */
  synchronized Set<RaftPeerId> tracked() {
    return Set.copyOf(peers.keySet());
  }

  /**
   * Starts probing the tracked peers (and peers tracked later) and, every interval, consults {@code
   * traffic} if a probe is overdue, evaluates, and then runs {@code tick} with the evaluation's
   * transitions and time.
   */
  public synchronized void start(Traffic traffic, Tick tick) {
    running = true;
    peers.values().forEach(this::startProber);
    ticker =
        Thread.ofPlatform()
            .name("skiff-liveness-" + self)
            .daemon()
            .start(() -> tickLoop(traffic, tick));
  }

  /**
   * Evidence of life other than probes: Raft traffic this server had from its peers. A loaded peer
   * (an election burst's fsyncs holding its virtual-thread carriers) may answer a probe late, and
   * counting it dead then would fence and depose the very leaders that took over a dead broker's
   * groups.
   */
  @FunctionalInterface
  public interface Traffic {
    /** Reports, through {@code heard}, when each peer was last heard from, in nanos. */
    void report(ObjLongConsumer<RaftPeerId> heard, long nowNanos);
  }

  /**
   * Credits peers with {@code traffic}'s evidence if any peer's probes are overdue (none succeeded
   * for two intervals); with every probe on time, the evidence is not gathered.
   */
  void consult(Traffic traffic, long nowNanos) {
    if (overdue(nowNanos)) {
      traffic.report(this::probeSucceeded, nowNanos);
    }
  }

  private synchronized boolean overdue(long nowNanos) {
    return peers.values().stream().anyMatch(p -> nowNanos - p.lastSeenNanos > 2 * intervalNanos);
  }

  /** What runs after each evaluation, on the liveness thread. */
  @FunctionalInterface
  public interface Tick {
    void run(List<Transition> transitions, long nowNanos);
  }

  private void tickLoop(Traffic traffic, Tick tick) {
    long last = clock.getAsLong();
    while (running) {
      try {
        TimeUnit.NANOSECONDS.sleep(intervalNanos);
        final long now = clock.getAsLong();
        excuse(now - last - intervalNanos);
        last = now;
        consult(traffic, now);
        tick.run(evaluate(now), now);
      } catch (InterruptedException e) {
        if (!running) {
          return;
        }
        // Not from close: Ratis code the tick ran (an election's start) may interrupt it.
      } catch (RuntimeException e) {
        LOG.warn("Liveness tick of {} failed; next in {} ms", self, intervalNanos / 1_000_000, e);
      }
    }
  }

  private void startProber(Peer peer) {
    // Platform threads, one per peer (O(brokers)): a virtual thread would wait for the carriers
    // that this server's Raft groups keep busy in an election burst, and a probe held up here
    // would count the peer as dead.
    peer.prober =
        Thread.ofPlatform()
            .daemon()
            .name("skiff-liveness-" + self + "-" + peer.address.getId())
            .start(() -> probeLoop(peer));
  }

  private static void stopProber(Peer peer) {
    peer.stopped = true;
    if (peer.prober != null) {
      peer.prober.interrupt();
    }
  }

  private void probeLoop(Peer peer) {
    RaftClient client = null;
    try {
      while (running && !peer.stopped) {
        final long started = clock.getAsLong();
        if (client == null) {
          client = newClient(peer.address);
        }
        final Probe result = probe(client, peer.address);
        if (result == Probe.ANSWERED) {
          probeSucceeded(peer.address.getId(), clock.getAsLong());
        } else if (result == Probe.REFUSED) {
          // A new client next time: gRPC backs off reconnecting a failed channel for up to two
          // minutes, which would hide a restarted peer. A timed-out probe keeps its client: a
          // loaded peer answers the next one without a new connection's handshakes.
          closeQuietly(client);
          client = null;
        }
        final long rest = intervalNanos - (clock.getAsLong() - started);
        if (rest > 0) {
          TimeUnit.NANOSECONDS.sleep(rest);
        }
      }
    } catch (InterruptedException e) {
      // stopped
    } finally {
      if (client != null) {
        closeQuietly(client);
      }
    }
  }

  /** How a probe ended. */
  private enum Probe {
    ANSWERED,
    TIMED_OUT,
    REFUSED
  }

  /** Whether {@code peer}'s Raft server answered a group-info request. */
  private Probe probe(RaftClient client, RaftPeer peer) {
    final long started = System.nanoTime();
    try {
      client.getGroupManagementApi(peer.getId()).info(probedGroup);
      return Probe.ANSWERED;
    } catch (GroupMismatchException e) {
      return Probe.ANSWERED; // it answers, it just does not host the group yet (a broker joining)
    } catch (IOException | RuntimeException e) {
      // Transport-neutral: a failure well before the request timeout is a refused or reset
      // connection, anything later a peer (or network) too slow to answer.
      final long tookNanos = System.nanoTime() - started;
      LOG.debug(
          "Liveness probe of {} failed after {} ms: {}", peer, tookNanos / 1_000_000, e.toString());
      return tookNanos < intervalNanos ? Probe.REFUSED : Probe.TIMED_OUT;
    }
  }

  private RaftClient newClient(RaftPeer peer) {
    return RaftClient.newBuilder()
        .setRaftGroup(RaftGroup.valueOf(probedGroup, peer))
        .setProperties(clientProperties)
        .setParameters(new Parameters())
        .setRetryPolicy(RetryPolicies.noRetry())
        .build();
  }

  private static void closeQuietly(RaftClient client) {
    try {
      client.close();
    } catch (IOException e) {
      LOG.debug("Closing a liveness client: {}", e.toString());
    }
  }

  @Override
  public void close() {
    final Thread t;
    synchronized (this) {
      running = false;
      peers.values().forEach(PeerLiveness::stopProber);
      t = ticker;
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
