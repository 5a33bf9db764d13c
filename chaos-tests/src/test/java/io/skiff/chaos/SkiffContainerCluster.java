package io.skiff.chaos;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ContainerNetwork;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.ExecConfig;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.lifecycle.Startables;

/**
 * A cluster of Skiff brokers, one container each ({@link SkiffImage}), on a private Docker network:
 * broker {@code N} is container {@code skiff-N} (its network alias, Raft address {@code
 * skiff-N:9093}), RF=3 and {@code min.insync.replicas=2} by default. Each broker advertises its
 * container IP address, which a Linux host running the Docker daemon routes to directly, so clients
 * in the test JVM use {@link #bootstrap} as they would on a real network. Container output goes to
 * the test log under the logger {@code skiff-N}.
 *
 * <p>Faults: {@link #kill} (SIGKILL of the container) and {@link #restart} (the same container
 * again, on its data volume); and, as a {@link BrokerShell}, commands run as root in a broker's
 * container, which has {@code NET_ADMIN} so that nemeses can use {@code iptables} and {@code tc}
 * there (its network interface is {@link #DEVICE}).
 *
 * <p>Thread-safe once started (nemeses and the test thread call it; Docker serialises). {@link
 * #close} removes the containers and the network (Ryuk is off where no registry is reachable, so
 * nothing else would).
 */
final class SkiffContainerCluster implements BrokerControl, BrokerShell, AutoCloseable {
  /** The brokers' network interface: the cluster network is a container's only one. */
  static final String DEVICE = "eth0";

  private static final Duration STARTUP = Duration.ofMinutes(4);

  private final Network network = Network.newNetwork();
  private final Map<Integer, GenericContainer<?>> brokers = new TreeMap<>();

  /** The brokers' data directory in their containers (the image's volume). */
  static final String DATA_DIR = "/var/lib/skiff";

  /**
   * @param size 3 or 5 brokers, every one a metadata voter
   * @param settings extra broker settings as {@code SKIFF_*} variables
   */
  SkiffContainerCluster(int size, Map<String, String> settings) {
    this(size, settings, null);
  }

  /**
   * @param dataTmpfsSize when not null, each broker's data directory is a tmpfs of this size (e.g.
   *     {@code 256m}), a small disk to fill; its data is gone when the container stops, so such a
   *     cluster takes no kill or restart
   */
  SkiffContainerCluster(int size, Map<String, String> settings, String dataTmpfsSize) {
    this(size, size, settings, dataTmpfsSize);
  }

  /**
   * @param size brokers in all
   * @param voterCount the first {@code voterCount} (3 or 5) are the metadata voters; the others
   *     join the metadata group as listeners, by their configuration alone
   * @param dataTmpfsSize as {@link #SkiffContainerCluster(int, Map, String)}
   */
  SkiffContainerCluster(
      int size, int voterCount, Map<String, String> settings, String dataTmpfsSize) {
    final ImageFromDockerfile image = SkiffImage.build();
    final String voters =
        IntStream.rangeClosed(1, voterCount)
            .mapToObj(id -> id + "@" + alias(id) + ":9093")
            .collect(Collectors.joining(","));
    for (int id = 1; id <= size; id++) {
      final String host = alias(id);
      final GenericContainer<?> broker =
          new GenericContainer<>(image)
              .withNetwork(network)
              .withNetworkAliases(alias(id))
              .withCreateContainerCmdModifier(
                  cmd -> {
                    cmd.withHostName(host);
                    cmd.getHostConfig().withCapAdd(Capability.NET_ADMIN);
                  })
              .withEnv("SKIFF_NODE_ID", Integer.toString(id))
              .withEnv("SKIFF_TIER", "dev")
              .withEnv("SKIFF_METADATA_VOTERS", voters)
              .withEnv("SKIFF_DEFAULT_REPLICATION_FACTOR", "3")
              .withEnv("SKIFF_MIN_INSYNC_REPLICAS", "2")
              .withEnv("SKIFF_OFFSETS_TOPIC_NUM_PARTITIONS", "3")
              .withEnv("JAVA_OPTS", "-Xms256m -Xmx512m")
              .withEnv(settings)
              // owned by the image's skiff user (SKIFF_UID in the Dockerfile), which runs the
              // broker; exec, since Docker mounts a tmpfs noexec and JNA loads its native library
              // from under the skiff user's home, the data directory
              .withTmpFs(
                  dataTmpfsSize == null
                      ? Map.of()
                      : Map.of(DATA_DIR, "rw,exec,size=" + dataTmpfsSize + ",uid=10001,gid=10001"))
              .withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger(alias(id))))
              .waitingFor(Wait.forHealthcheck().withStartupTimeout(STARTUP));
      brokers.put(id, broker);
    }
  }

  static String alias(int id) {
    return "skiff-" + id;
  }

  /** Starts every broker at once (they wait for each other to form the metadata quorum). */
  SkiffContainerCluster start() {
    Startables.deepStart(brokers.values()).join();
    return this;
  }

  /** The brokers' Kafka addresses as the test JVM reaches them. */
  String bootstrap() {
    final List<String> addresses = new ArrayList<>();
    for (int id : brokers.keySet()) {
      if (brokers.get(id).isRunning()) {
        addresses.add(ip(id) + ":9092");
      }
    }
    return String.join(",", addresses);
  }

  @Override
  public List<Integer> ids() {
    return List.copyOf(brokers.keySet());
  }

  @Override
  public String address(int id) {
    return ip(id);
  }

  /** The container's address on the cluster network (Docker may change it on a restart). */
  String ip(int id) {
    final Map<String, ContainerNetwork> networks = inspect(id).getNetworkSettings().getNetworks();
    return networks.values().stream()
        .filter(n -> network.getId().equals(n.getNetworkID()))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("broker " + id + " has no address"))
        .getIpAddress();
  }

  @Override
  public String exec(int id, String... command) throws IOException, InterruptedException {
    final ExecResult result =
        brokers.get(id).execInContainer(ExecConfig.builder().user("root").command(command).build());
    if (result.getExitCode() != 0) {
      throw new IOException(
          String.join(" ", command)
              + " on broker "
              + id
              + " exited "
              + result.getExitCode()
              + ": "
              + result.getStderr().strip());
    }
    return result.getStdout();
  }

  @Override
  public void write(int id, String path, byte[] content) {
    brokers.get(id).copyFileToContainer(Transferable.of(content, 0644), path);
  }

  /** The brokers' admin HTTP addresses (port 9644) as the test JVM reaches them. */
  String admin() {
    return brokers.keySet().stream().map(id -> ip(id) + ":9644").collect(Collectors.joining(","));
  }

  /** SIGTERM ({@code docker stop}), SIGKILL after 60 s; nothing when it is not running. */
  @Override
  public void stop(int id) {
    if (Boolean.TRUE.equals(inspect(id).getState().getRunning())) {
      DockerClientFactory.instance()
          .client()
          .stopContainerCmd(brokers.get(id).getContainerId())
          .withTimeout(60)
          .exec();
    }
  }

  /** SIGKILL: the broker gets no chance to shut down; nothing when it is not running. */
  @Override
  public void kill(int id) {
    if (Boolean.TRUE.equals(inspect(id).getState().getRunning())) {
      DockerClientFactory.instance()
          .client()
          .killContainerCmd(brokers.get(id).getContainerId())
          .withSignal("KILL")
          .exec();
    }
  }

  /** Starts a killed broker's container again and waits until its health check passes. */
  @Override
  public void restart(int id) throws InterruptedException {
    if (!Boolean.TRUE.equals(inspect(id).getState().getRunning())) {
      DockerClientFactory.instance()
          .client()
          .startContainerCmd(brokers.get(id).getContainerId())
          .exec();
    }
    final long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      final InspectContainerResponse.ContainerState state = inspect(id).getState();
      if (state.getHealth() != null && "healthy".equals(state.getHealth().getStatus())) {
        return;
      }
      Thread.sleep(1_000);
    }
    throw new IllegalStateException("broker " + id + " not healthy " + STARTUP + " after restart");
  }

  private InspectContainerResponse inspect(int id) {
    return DockerClientFactory.instance()
        .client()
        .inspectContainerCmd(brokers.get(id).getContainerId())
        .exec();
  }

  @Override
  public void close() {
    brokers.values().forEach(GenericContainer::stop);
    network.close();
  }
}
