package org.apache.ratis.server.impl;

import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;

/**
 * Records what it applies; its flush, which the Raft log worker waits for before it counts entries
 * as flushed (and a follower acknowledges them), returns {@link #gate}: a test holds a server's
 * flushes by setting an incomplete future and releases them by completing it.
 */
final class GatedFlushStateMachine extends BaseStateMachine implements StateMachine.DataApi {
  final Queue<String> applied = new ConcurrentLinkedQueue<>();
  volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    applied.add(trx.getLogEntry().getStateMachineLogEntry().getLogData().toStringUtf8());
    updateLastAppliedTermIndex(trx.getLogEntry().getTerm(), trx.getLogEntry().getIndex());
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  @Override
  public StateMachine.DataApi data() {
    return this;
  }

  @Override
  public CompletableFuture<Void> flush(long logIndex) {
    return gate;
  }
}
