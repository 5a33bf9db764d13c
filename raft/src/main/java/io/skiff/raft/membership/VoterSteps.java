package io.skiff.raft.membership;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.ratis.protocol.RaftPeer;

/**
 * The order in which a reassignment changes a group's voters so that Ratis accepts every step (peer
 * lists compared by peer id). Stateless.
 */
final class VoterSteps {
  private VoterSteps() {}

  /**
   * The voter lists that lead from {@code current} to one holding every target voter, each keeping
   * all voters so far and adding fewer new ones than it keeps (one to a lone voter). Ratis refuses
   * a change that brings in as many new voters as it keeps (they could outvote the caught-up ones
   * before knowing the log), so {1} → {2} runs as {1} → {1,2} → {2}, and {1,2} → {2,3} as {1,2} →
   * {1,2,3} → {2,3}. The last step, down to the target, only removes voters. Empty if the target
   * adds no voter, or adds few enough to go in one step.
   */
  static List<List<RaftPeer>> growth(List<RaftPeer> current, Collection<RaftPeer> target) {
    final List<List<RaftPeer>> steps = new ArrayList<>();
    final List<RaftPeer> pending = new ArrayList<>(minus(new ArrayList<>(target), current));
    final long kept = target.stream().filter(t -> contains(current, t)).count();
    if (pending.size() < kept) {
      return steps; // the target itself is a safe step
    }
    List<RaftPeer> voters = current;
    while (!pending.isEmpty()) {
      final int batch = Math.max(1, Math.min(pending.size(), voters.size() - 1));
      final List<RaftPeer> next = new ArrayList<>(voters);
      next.addAll(pending.subList(0, batch));
      pending.subList(0, batch).clear();
      steps.add(next);
      voters = next;
    }
    return steps;
  }

  static List<RaftPeer> minus(List<RaftPeer> peers, Collection<RaftPeer> removed) {
    return peers.stream().filter(p -> !contains(removed, p)).toList();
  }

  static boolean contains(Collection<RaftPeer> peers, RaftPeer peer) {
    return peers.stream().anyMatch(p -> p.getId().equals(peer.getId()));
  }
}
