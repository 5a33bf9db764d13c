package io.skiff.chaos;

import java.util.List;

/**
 * Runs commands as root inside a broker's network namespace, for nemeses that break the network
 * with {@code iptables} and {@code tc}: a broker container started with {@code NET_ADMIN}.
 *
 * <p>Implementations are thread-safe.
 */
public interface BrokerShell {
  /** The brokers' ids. */
  List<Integer> ids();

  /** Broker {@code id}'s IP address on the cluster network, as the other brokers reach it. */
  String address(int id);

  /**
   * Runs {@code command} as root in broker {@code id}; returns its standard output.
   *
   * @throws java.io.IOException when it exits non-zero (the message holds its standard error)
   */
  String exec(int id, String... command) throws Exception;

  /** Writes {@code content} to the file {@code path} in broker {@code id}, readable by all. */
  void write(int id, String path, byte[] content) throws Exception;
}
