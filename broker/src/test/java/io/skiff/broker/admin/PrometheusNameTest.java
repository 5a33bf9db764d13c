package io.skiff.broker.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.broker.admin.PrometheusName.Label;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrometheusNameTest {

  @Test
  void prefixesAndSanitisesAPlainName() {
    assertThat(PrometheusName.parse("jvm.memory-used/bytes"))
        .isEqualTo(new PrometheusName("skiff_jvm_memory_used_bytes", List.of()));
  }

  @Test
  void keepsColonsInFamilyNames() {
    assertThat(PrometheusName.parse("rule:rate5m").family()).isEqualTo("skiff_rule:rate5m");
  }

  @Test
  void parsesTheLabelSuffixSortedByName() {
    assertThat(PrometheusName.parse("partition.size[topic=orders, partition=3]"))
        .isEqualTo(
            new PrometheusName(
                "skiff_partition_size",
                List.of(new Label("partition", "3"), new Label("topic", "orders"))));
  }

  @Test
  void sanitisesLabelNamesButKeepsValues() {
    assertThat(PrometheusName.parse("x[gc.name=G1 Young: 1,2xx=a=b]").labels())
        .containsExactly(new Label("_2xx", "a=b"), new Label("gc_name", "G1 Young: 1"));
  }

  @Test
  void treatsAnUnparsableSuffixAsPartOfTheName() {
    assertThat(PrometheusName.parse("x[novalue]"))
        .isEqualTo(new PrometheusName("skiff_x_novalue_", List.of()));
    assertThat(PrometheusName.parse("x[a=1,a=2]"))
        .isEqualTo(new PrometheusName("skiff_x_a_1_a_2_", List.of()));
    assertThat(PrometheusName.parse("x[=1]").labels()).isEmpty();
    assertThat(PrometheusName.parse("[a=1]").labels()).isEmpty();
  }

  @Test
  void rendersLabelsWithAnExtraOneLast() {
    PrometheusName name = PrometheusName.parse("x[b=2,a=1]");

    assertThat(name.renderLabels()).isEqualTo("{a=\"1\",b=\"2\"}");
    assertThat(name.renderLabels("quantile", "0.5"))
        .isEqualTo("{a=\"1\",b=\"2\",quantile=\"0.5\"}");
    assertThat(PrometheusName.parse("x").renderLabels()).isEmpty();
    assertThat(PrometheusName.parse("x").renderLabels("quantile", "0.5"))
        .isEqualTo("{quantile=\"0.5\"}");
  }

  @Test
  void escapesBackslashQuoteAndNewlineInValues() {
    assertThat(PrometheusName.parse("x[path=a\\b\"c\nd]").renderLabels())
        .isEqualTo("{path=\"a\\\\b\\\"c\\nd\"}");
  }
}
