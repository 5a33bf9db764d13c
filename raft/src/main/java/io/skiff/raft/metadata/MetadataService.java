package io.skiff.raft.metadata;

import io.skiff.raft.metadata.MetadataException.Error;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.retry.ExponentialBackoffRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the broker layer asks of the cluster metadata: read the current {@link MetadataImage}
 * locally, and change it through the metadata group — register and decommission brokers, create,
 * delete and grow topics, assign replicas, set configs, allocate producer ids.
 *
 * <p>Each change completes once it is committed <em>and</em> visible in this broker's local image,
 * so a caller reads its own writes. Refusals fail the future with a {@link MetadataException}.
 *
 * <p>A change that the metadata group cannot commit, because no majority of its voters is up, fails
 * after {@link #CHANGE_TIMEOUT_SECONDS} with a {@link TimeoutException} that says so (Kafka's
 * REQUEST_TIMED_OUT, which clients retry). Its client is built with {@link #retryPolicy()}: retries
 * back off exponentially and stop, where Ratis' default retries forever without a pause. Ratis
 * closes a client's request window for good on a failure it does not retry (a voter that has not
 * added the group yet answers GroupMismatchException while the cluster starts), so a change that
 * fails that way replaces the client: the next change goes through a new one.
 *
 * <p>Thread-safe.
 */
public final class MetadataService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataService.class);

  /** How long a change may wait for the metadata group to commit it. */
  public static final int CHANGE_TIMEOUT_SECONDS = 30;

  /** Retries of one change: sleeps of 0.1, 0.2, ... 2 s (each ±50 %), about 35 s in all. */
  private static final int MAX_ATTEMPTS = 20;

  private final MetadataPublisher published;
  private final Supplier<RaftClient> clients;
  private RaftClient client; // guarded by this

  /**
   * @param published this broker's images of the metadata, fed by its replica of the group
   * @param clients builds a client of the metadata group; one is built now, more on failures
   */
  public MetadataService(MetadataPublisher published, Supplier<RaftClient> clients) {
    this.published = published;
    this.clients = clients;
    this.client = clients.get();
  }

  private synchronized RaftClient client() {
    return client;
  }

  /** Replaces {@code failed} with a new client unless another change has already done so. */
  private synchronized void renew(RaftClient failed) {
    if (client != failed) {
      return;
    }
    client = clients.get();
    try {
      failed.close();
    } catch (IOException e) {
      LOG.warn("Closing a failed metadata group client: {}", e.toString());
    }
  }

  public MetadataImage image() {
    return published.image();
  }

  public void addListener(Consumer<MetadataImage> listener) {
    published.addListener(listener);
  }

  public void removeListener(Consumer<MetadataImage> listener) {
    published.removeListener(listener);
  }

  public CompletableFuture<Void> registerBroker(BrokerInfo broker) {
    return submit(MetadataCommand.registerBroker(broker)).thenApply(v -> null);
  }

  public CompletableFuture<Void> decommissionBroker(int nodeId) {
    return submit(MetadataCommand.decommissionBroker(nodeId)).thenApply(v -> null);
  }

  /**
   * Moves a broker to a membership state: maintenance on ({@link BrokerState#MAINTENANCE}) or off
   * ({@link BrokerState#ACTIVE}), decommission ({@link BrokerState#DRAINING}, refused when the
   * other brokers cannot hold its partitions' replication factor), recommission ({@link
   * BrokerState#ACTIVE}). Refusals fail with a {@link MetadataException}.
   */
  public CompletableFuture<Void> setBrokerState(int nodeId, BrokerState state) {
    return submit(MetadataCommand.setBrokerState(nodeId, state)).thenApply(v -> null);
  }

  /** Creates a topic, placing its replicas over the active brokers. */
  public CompletableFuture<TopicInfo> createTopic(
      String name, int partitions, int replicationFactor, Map<String, String> configs) {
    final List<List<Integer>> replicas;
    try {
      validateTopicName(name);
      replicas =
          ReplicaPlacement.assign(
              name, image().brokers().values(), 0, partitions, replicationFactor);
    } catch (MetadataException e) {
      return CompletableFuture.failedFuture(e);
    }
    return createTopic(name, replicas, configs);
  }

  /** Creates a topic with an explicit replica assignment. */
  public CompletableFuture<TopicInfo> createTopic(
      String name, List<List<Integer>> replicas, Map<String, String> configs) {
    try {
      validateTopicName(name);
    } catch (MetadataException e) {
      return CompletableFuture.failedFuture(e);
    }
    return submit(MetadataCommand.createTopic(name, UUID.randomUUID(), replicas, configs))
        .thenApply(v -> image().topic(name).orElseThrow());
  }

  public CompletableFuture<Void> deleteTopic(String name) {
    return submit(MetadataCommand.deleteTopic(name)).thenApply(v -> null);
  }

  /** Grows a topic to {@code totalPartitions}, placing the new partitions' replicas. */
  public CompletableFuture<TopicInfo> createPartitions(String name, int totalPartitions) {
    final TopicInfo topic = image().topic(name).orElse(null);
    if (topic == null) {
      return CompletableFuture.failedFuture(
          new MetadataException(Error.UNKNOWN_TOPIC, "topic '" + name + "' does not exist"));
    }
    if (totalPartitions <= topic.partitionCount()) {
      return CompletableFuture.failedFuture(
          new MetadataException(
              Error.INVALID_PARTITIONS,
              "topic '"
                  + name
                  + "' has "
                  + topic.partitionCount()
                  + " partitions; asked for "
                  + totalPartitions));
    }
    final List<List<Integer>> added;
    try {
      added =
          ReplicaPlacement.assign(
              name,
              image().brokers().values(),
              topic.partitionCount(),
              totalPartitions - topic.partitionCount(),
              topic.replicasOf(0).size());
    } catch (MetadataException e) {
      return CompletableFuture.failedFuture(e);
    }
    return submit(MetadataCommand.createPartitions(name, added))
        .thenApply(v -> image().topic(name).orElseThrow());
  }

  public CompletableFuture<Void> assignReplicas(
      String topic, int partition, List<Integer> replicas) {
    return submit(MetadataCommand.assignReplicas(topic, partition, replicas)).thenApply(v -> null);
  }

  /**
   * Starts (or replaces) the reassignment of a partition to {@code target}, or with a null target
   * cancels the one under way. The partition's leader carries it out ({@code
   * io.skiff.raft.membership.ReassignmentDriver}) and then calls {@link #completeReassignment}.
   */
  public CompletableFuture<Void> alterReassignment(
      String topic, int partition, List<Integer> target) {
    return submit(MetadataCommand.alterReassignment(topic, partition, target)).thenApply(v -> null);
  }

  /** Records that the partition's Raft voters are now {@code voters}, ending its reassignment. */
  public CompletableFuture<Void> completeReassignment(
      String topic, int partition, List<Integer> voters) {
    return submit(MetadataCommand.completeReassignment(topic, partition, voters))
        .thenApply(v -> null);
  }

  /** Sets (or, with a null value, removes) topic config overrides. */
  public CompletableFuture<Void> setTopicConfigs(String topic, Map<String, String> changes) {
    return submit(MetadataCommand.setConfigs(MetadataCommand.SCOPE_TOPIC, topic, changes))
        .thenApply(v -> null);
  }

  public CompletableFuture<Void> setClusterConfigs(Map<String, String> changes) {
    return submit(MetadataCommand.setConfigs(MetadataCommand.SCOPE_CLUSTER, "", changes))
        .thenApply(v -> null);
  }

  /** Reserves {@code count} consecutive producer ids; completes with the first. */
  public CompletableFuture<Long> allocateProducerIds(int count) {
    return submit(MetadataCommand.allocateProducerIds(count));
  }

  /** The retry policy for the metadata group's client: exponential backoff, bounded attempts. */
  public static RetryPolicy retryPolicy() {
    return ExponentialBackoffRetry.newBuilder()
        .setBaseSleepTime(TimeDuration.valueOf(100, TimeUnit.MILLISECONDS))
        .setMaxSleepTime(TimeDuration.valueOf(2, TimeUnit.SECONDS))
        .setMaxAttempts(MAX_ATTEMPTS)
        .build();
  }

  private CompletableFuture<Long> submit(Message command) {
    final RaftClient current = client();
    return current
        .async()
        .send(command)
        .orTimeout(CHANGE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .whenComplete(
            (reply, error) -> {
              if (closesTheClient(error)) {
                renew(current);
              }
            })
        .exceptionally(MetadataService::quorumUnavailable)
        .thenCompose(
            reply -> {
              final long value = resultOf(reply);
              return published
                  .whenApplied(reply.getLogIndex())
                  .orTimeout(30, TimeUnit.SECONDS)
                  .thenApply(image -> value);
            });
  }

  /** Whether Ratis has closed the client's request window after this failure. */
  private static boolean closesTheClient(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause instanceof AlreadyClosedException
        || cause instanceof GroupMismatchException
        || cause instanceof RaftRetryFailureException;
  }

  /** Rethrows a failure to reach the metadata group as a timeout that says what to check. */
  private static RaftClientReply quorumUnavailable(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TimeoutException
        || cause instanceof RaftRetryFailureException
        || cause instanceof AlreadyClosedException) {
      final TimeoutException timeout =
          new TimeoutException(
              "the metadata group did not commit the change within "
                  + CHANGE_TIMEOUT_SECONDS
                  + " s: a majority of metadata.voters must be up and reachable; retry once they"
                  + " are (last error: "
                  + cause
                  + ")");
      timeout.initCause(cause);
      throw new CompletionException(timeout);
    }
    throw error instanceof CompletionException c ? c : new CompletionException(error);
  }

  private static long resultOf(RaftClientReply reply) {
    if (!reply.isSuccess()) {
      throw new CompletionException(
          new IOException("metadata change failed: " + reply.getException(), reply.getException()));
    }
    final long value;
    try (DataInputStream in = new DataInputStream(reply.getMessage().getContent().newInput())) {
      final Error error = Error.values()[in.readByte()];
      final String message = in.readUTF();
      value = in.readLong();
      if (error != Error.NONE) {
        throw new CompletionException(new MetadataException(error, message));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return value;
  }

  /** Kafka's topic name rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..". */
  static void validateTopicName(String name) {
    if (name == null
        || name.isEmpty()
        || name.length() > 249
        || name.equals(".")
        || name.equals("..")
        || !name.matches("[a-zA-Z0-9._-]+")) {
      throw new MetadataException(
          Error.INVALID_REQUEST,
          "invalid topic name '"
              + name
              + "': use 1-249 characters of letters, digits, '.', '_' and '-'");
    }
  }

  @Override
  public void close() throws IOException {
    client().close();
  }
}
