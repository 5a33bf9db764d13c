package org.apache.ratis.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.TermIndexProto;
import org.junit.jupiter.api.Test;

/**
 * Patch 0026: {@link TermIndex#valueOf(long, long)} makes a plain value instead of looking one up
 * in a process-wide cache of weakly referenced values, so a term-index is equal to, not the same
 * object as, another of the same term and index; order, equality, hashing and protos are as before.
 */
class TermIndexValueTest {
  @Test
  void valuesAreEqualWithoutBeingInterned() {
    final TermIndex a = TermIndex.valueOf(3, 1_000_000);
    final TermIndex b = TermIndex.valueOf(3, 1_000_000);
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotSameAs(b);
    assertThat(a.compareTo(b)).isZero();
    assertThat(a).isNotEqualTo(TermIndex.valueOf(3, 1_000_001));
    assertThat(a).isNotEqualTo(TermIndex.valueOf(4, 1_000_000));
  }

  @Test
  void protoIsMadeOnceAndRoundTrips() {
    final TermIndex ti = TermIndex.valueOf(7, 42);
    final TermIndexProto proto = ti.toProto();
    assertThat(proto.getTerm()).isEqualTo(7);
    assertThat(proto.getIndex()).isEqualTo(42);
    assertThat(ti.toProto()).isSameAs(proto);
    assertThat(TermIndex.valueOf(proto)).isEqualTo(ti);
    assertThat(TermIndex.valueOf(LogEntryProto.newBuilder().setTerm(7).setIndex(42).build()))
        .isEqualTo(ti);
    assertThat(TermIndex.valueOf((TermIndexProto) null)).isNull();
    assertThat(TermIndex.valueOf((LogEntryProto) null)).isNull();
  }

  @Test
  void namedValuesStillPrintTheirNames() {
    assertThat(TermIndex.valueOf(0, -1)).hasToString("<INITIAL_VALUE>");
    assertThat(TermIndex.valueOf(TermIndexProto.getDefaultInstance()))
        .hasToString("<PROTO_DEFAULT>");
    assertThat(TermIndex.valueOf(2, 9)).hasToString("(t:2, i:9)");
  }

  @Property
  void ordersByTermThenIndex(
      @ForAll long term1, @ForAll long index1, @ForAll long term2, @ForAll long index2) {
    final int expected = term1 != term2 ? Long.compare(term1, term2) : Long.compare(index1, index2);
    final TermIndex a = TermIndex.valueOf(term1, index1);
    final TermIndex b = TermIndex.valueOf(term2, index2);
    assertThat(Integer.signum(a.compareTo(b))).isEqualTo(Integer.signum(expected));
    assertThat(a.equals(b)).isEqualTo(expected == 0);
    if (expected == 0) {
      assertThat(a.hashCode()).isEqualTo(b.hashCode());
    }
  }
}
