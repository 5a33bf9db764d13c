package io.skiff.broker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@code skiff broker --config FILE}: runs one broker until SIGTERM/SIGINT, then shuts it down
 * gracefully ({@link Broker#shutdown}: leaderships handed over, requests in flight answered).
 * Configuration errors end the process with exit code 2 and a one-line reason.
 */
public final class BrokerMain {
  /** Per shutdown step; Kubernetes' default grace period (30 s) covers a drain and the close. */
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(10);

  private BrokerMain() {}

  public static void main(String[] args) throws Exception {
    // Before anything starts a virtual thread: the scheduler reads its bound once.
    final int carriers = VirtualThreadCarriers.bound();
    final Path configFile = parse(args);
    final BrokerConfig config;
    try {
      config = BrokerConfig.load(configFile, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("skiff: invalid configuration in " + configFile + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    final Broker broker = Broker.start(config);
    final CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  broker.shutdown(DRAIN_TIMEOUT);
                  stopped.countDown();
                },
                "skiff-shutdown"));
    System.out.println(
        "Skiff broker "
            + config.nodeId()
            + " ready; Kafka bootstrap "
            + broker.bootstrapAddress()
            + "; at most "
            + carriers
            + " virtual-thread carriers");
    stopped.await();
  }

  private static Path parse(String[] args) {
    if (args.length == 2 && args[0].equals("--config")) {
      final Path file = Path.of(args[1]);
      if (!Files.isReadable(file)) {
        System.err.println("skiff: cannot read config file " + file);
        System.exit(2);
      }
      return file;
    }
    System.err.println("usage: skiff broker --config FILE");
    System.exit(2);
    return null;
  }
}
