package io.skiff.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.raft.partition.PartitionId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartitionCatalogTest {
  @TempDir Path root;

  private final PartitionId deleted = new PartitionId("orders", UUID.randomUUID(), 0);
  private final PartitionId recreated = new PartitionId("orders", UUID.randomUUID(), 0);

  @Test
  void neverAdoptsTheDirectoryOfADeletedTopicOfTheSameName() throws IOException {
    final PartitionCatalog catalog = new PartitionCatalog(root);
    catalog.register(deleted, id -> false);
    final Path dir = catalog.logDir(deleted);
    Files.writeString(dir.resolve("00000000000000000000.log"), "old records");

    catalog.register(recreated, id -> false);

    assertThat(catalog.logDir(recreated)).isEqualTo(dir);
    assertThat(dir.resolve("00000000000000000000.log")).doesNotExist();
    assertThat(catalog.get(recreated.groupId())).contains(recreated);
    assertThat(catalog.get(deleted.groupId())).isEmpty();
    assertThat(new PartitionCatalog(root).get(recreated.groupId())).contains(recreated);
    assertThat(entries()).containsExactly("orders-0");
  }

  @Test
  void refusesTheDirectoryWhileTheDeletedTopicsReplicaStillRuns() throws IOException {
    final PartitionCatalog catalog = new PartitionCatalog(root);
    catalog.register(deleted, id -> false);
    Files.writeString(catalog.logDir(deleted).resolve("00000000000000000000.log"), "old records");

    assertThatThrownBy(() -> catalog.register(recreated, deleted::equals))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(deleted.topicId().toString());
    assertThat(catalog.logDir(deleted).resolve("00000000000000000000.log")).exists();
  }

  @Test
  void deletingAReplicaLeavesANewerTopicsDirectoryAlone() throws IOException {
    final PartitionCatalog catalog = new PartitionCatalog(root);
    catalog.register(recreated, id -> false);
    Files.writeString(catalog.logDir(recreated).resolve("00000000000000000000.log"), "new");

    catalog.delete(deleted);

    assertThat(catalog.logDir(recreated).resolve("00000000000000000000.log")).exists();
    catalog.delete(recreated);
    assertThat(entries()).isEmpty();
  }

  @Test
  void refusesADirectoryWithFilesButNoMeta() throws IOException {
    final PartitionCatalog catalog = new PartitionCatalog(root);
    final Path dir = Files.createDirectories(catalog.logDir(recreated));
    Files.writeString(dir.resolve("00000000000000000000.log"), "unknown records");

    assertThatThrownBy(() -> catalog.register(recreated, id -> false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("move it out of the way");
    assertThat(dir.resolve("00000000000000000000.log")).exists();
  }

  @Test
  void finishesAnInterruptedDeletionOnStart() throws IOException {
    final Path aside = Files.createDirectories(root.resolve("orders-0.abc-delete"));
    Files.writeString(aside.resolve("00000000000000000000.log"), "old records");

    new PartitionCatalog(root);

    assertThat(entries()).isEmpty();
  }

  private List<String> entries() throws IOException {
    try (Stream<Path> list = Files.list(root)) {
      return list.map(p -> p.getFileName().toString()).toList();
    }
  }
}
