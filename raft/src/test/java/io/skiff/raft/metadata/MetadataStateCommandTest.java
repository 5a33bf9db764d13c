package io.skiff.raft.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.raft.metadata.MetadataException.Error;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.apache.ratis.protocol.Message;

/**
 * Tests of the metadata rules that apply commands to a {@link MetadataState} directly, without
 * Raft: apply a command and expect it taken or refused with a given error, and take a snapshot of
 * the state and read it back. Not thread-safe: each test has its own instance.
 */
abstract class MetadataStateCommandTest {
  final MetadataState state = new MetadataState();

  MetadataState.Result apply(Message command) throws IOException {
    return state.apply(new DataInputStream(command.getContent().newInput()));
  }

  void ok(Message command) throws IOException {
    assertThat(apply(command).error()).isEqualTo(Error.NONE);
  }

  void refused(Message command, Error error) throws IOException {
    final MetadataState.Result result = apply(command);
    assertThat(result.error()).isEqualTo(error);
    assertThat(result.message()).isNotBlank();
  }

  /** The state's snapshot, as the state machine writes it. */
  byte[] snapshot() throws IOException {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      state.writeTo(out);
    }
    return bytes.toByteArray();
  }

  /** A new state read from {@code snapshot}. */
  static MetadataState restored(byte[] snapshot) throws IOException {
    final MetadataState restored = new MetadataState();
    restored.readFrom(new DataInputStream(new ByteArrayInputStream(snapshot)));
    return restored;
  }
}
