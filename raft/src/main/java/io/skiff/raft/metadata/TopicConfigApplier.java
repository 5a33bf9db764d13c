package io.skiff.raft.metadata;

import io.skiff.log.LogConfig;
import io.skiff.log.SegmentedLog;
import io.skiff.raft.RaftNode;
import io.skiff.raft.partition.PartitionId;
import io.skiff.raft.partition.PartitionStateMachine;
import io.skiff.raft.partition.ReplicatedPartition;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the settings of every partition log hosted here equal to the broker's log settings with its
 * topic's overrides applied ({@code retention.ms}, {@code segment.bytes}, ...; see {@link
 * LogConfig#withTopicOverrides}). On each {@link MetadataImage} it compares each hosted log's
 * settings with what the image asks for and puts changes in force at once, so an
 * IncrementalAlterConfigs reaches every replica as soon as each applies the metadata change. A log
 * still opening is skipped here; it reads its topic's settings from the latest image once open
 * ({@link PartitionStateMachine}), so no change is missed.
 *
 * <p>Runs on the thread that publishes images (the metadata group's apply thread); each check is a
 * record comparison, and a change takes one log's lock briefly. Thread-safe.
 */
public final class TopicConfigApplier implements Consumer<MetadataImage> {
  private static final Logger LOG = LoggerFactory.getLogger(TopicConfigApplier.class);

  private final RaftNode node;

  public TopicConfigApplier(RaftNode node) {
    this.node = node;
  }

  @Override
  public void accept(MetadataImage image) {
    for (TopicInfo topic : image.topics().values()) {
      final LogConfig wanted = settingsOf(node.config().logConfig(), topic);
      for (int p = 0; p < topic.partitionCount(); p++) {
        final PartitionId id = topic.partition(p);
        node.partition(id).map(ReplicatedPartition::log).ifPresent(log -> apply(id, log, wanted));
      }
    }
  }

  private static void apply(PartitionId id, SegmentedLog log, LogConfig wanted) {
    if (!log.config().equals(wanted)) {
      log.updateConfig(wanted);
      LOG.info("{}: log settings now {}", id, wanted);
    }
  }

  /**
   * The broker's log settings with the topic's overrides; the broker's alone, with a warning, if
   * the stored overrides are unusable (they are checked before they are stored, so this means a
   * metadata log written by another version).
   */
  public static LogConfig settingsOf(LogConfig broker, TopicInfo topic) {
    final Map<String, String> overrides = topic.configs();
    try {
      return broker.withTopicOverrides(overrides);
    } catch (IllegalArgumentException e) {
      LOG.warn(
          "Topic '{}' has unusable config overrides {} ({}); its logs keep the broker's settings",
          topic.name(),
          overrides,
          e.getMessage());
      return broker;
    }
  }
}
