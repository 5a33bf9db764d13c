package org.apache.ratis.server.impl;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.statemachine.StateMachine;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts {@link LoopbackGroup}s for a test and closes them after it, whatever its outcome. Register
 * it as an instance field with {@code @RegisterExtension}.
 */
final class LoopbackGroups implements AfterEachCallback {
  private final List<LoopbackGroup> started = new ArrayList<>();

  /** {@link LoopbackGroup#start}, closed after the test. */
  LoopbackGroup start(
      int size, Consumer<RaftProperties> configure, Supplier<? extends StateMachine> machines)
      throws IOException {
    return start(SupportedRpcType.GRPC, size, configure, machines);
  }

  /**
   * {@link LoopbackGroup#start(SupportedRpcType, int, Consumer, Supplier)}, closed after the test.
   */
  LoopbackGroup start(
      SupportedRpcType rpcType,
      int size,
      Consumer<RaftProperties> configure,
      Supplier<? extends StateMachine> machines)
      throws IOException {
    final LoopbackGroup group = LoopbackGroup.start(rpcType, size, configure, machines);
    started.add(group);
    return group;
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    IOException first = null;
    for (LoopbackGroup group : started) {
      try {
        group.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    started.clear();
    if (first != null) {
      throw first;
    }
  }
}
