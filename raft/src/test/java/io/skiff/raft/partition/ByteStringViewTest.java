package io.skiff.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.junit.jupiter.api.Test;

class ByteStringViewTest {
  private static byte[] bytes(ByteBuffer b) {
    final byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  @Test
  void aFlatStringIsViewedThroughItsOwnArrayWithoutACopy() {
    final byte[] backing = "xxhello, raftyy".getBytes(StandardCharsets.US_ASCII);
    final ByteString data = UnsafeByteOperations.unsafeWrap(backing).substring(2, 13);
    final ByteBuffer view = ByteStringView.of(data);
    assertThat(view.hasArray()).isTrue();
    assertThat(view.isReadOnly()).isFalse();
    assertThat(bytes(view)).isEqualTo("hello, raft".getBytes(StandardCharsets.US_ASCII));
    backing[2] = 'H'; // the same memory, not a copy
    assertThat(view.get(view.position())).isEqualTo((byte) 'H');
  }

  @Test
  void aStringMadeOfSeveralPiecesIsReadThroughTheReadOnlyBuffer() {
    final ByteString left = ByteString.copyFrom(new byte[200]);
    final ByteString right = ByteString.copyFromUtf8("tail".repeat(100));
    final ByteString rope = left.concat(right);
    final ByteBuffer view = ByteStringView.of(rope);
    assertThat(bytes(view)).isEqualTo(rope.toByteArray());
  }

  @Test
  void aStringOverAWritableBufferIsViewedInPlace() {
    final ByteBuffer direct = ByteBuffer.allocateDirect(16).put(new byte[] {1, 2, 3, 4}).flip();
    final ByteBuffer view = ByteStringView.of(UnsafeByteOperations.unsafeWrap(direct));
    assertThat(bytes(view)).containsExactly(1, 2, 3, 4);
    assertThat(view.isDirect()).isTrue();
  }

  @Test
  void anEmptyStringIsAnEmptyBuffer() {
    assertThat(ByteStringView.of(ByteString.EMPTY).remaining()).isZero();
  }
}
