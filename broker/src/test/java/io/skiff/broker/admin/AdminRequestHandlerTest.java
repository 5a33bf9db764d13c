package io.skiff.broker.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdminRequestHandlerTest {

  private final Map<String, Supplier<String>> endpoints = new ConcurrentHashMap<>();
  private final EmbeddedChannel channel =
      new EmbeddedChannel(
          new AdminRequestHandler(
              new MetricRegistry(), () -> HealthStatus.ok("fine"), endpoints, Map.of()));

  @AfterEach
  void finish() {
    assertThat(channel.finishAndReleaseAll()).isFalse();
  }

  @Test
  void releasesTheRequestAndWritesOneResponseForEveryOutcome() {
    endpoints.put("/v1/ok", () -> "{}");
    endpoints.put(
        "/v1/broken",
        () -> {
          throw new IllegalStateException("broken on purpose");
        });

    assertThat(exchange(HttpMethod.GET, "/health")).isEqualTo(HttpResponseStatus.OK);
    assertThat(exchange(HttpMethod.GET, "/metrics")).isEqualTo(HttpResponseStatus.OK);
    assertThat(exchange(HttpMethod.GET, "/v1/ok")).isEqualTo(HttpResponseStatus.OK);
    assertThat(exchange(HttpMethod.GET, "/v1/broken"))
        .isEqualTo(HttpResponseStatus.INTERNAL_SERVER_ERROR);
    assertThat(exchange(HttpMethod.GET, "/nope")).isEqualTo(HttpResponseStatus.NOT_FOUND);
    assertThat(exchange(HttpMethod.POST, "/health"))
        .isEqualTo(HttpResponseStatus.METHOD_NOT_ALLOWED);
  }

  @Test
  void setsContentLengthToTheEncodedBodyLength() {
    endpoints.put("/v1/utf8", () -> "{\"name\":\"Grüße\"}");
    FullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/v1/utf8");

    channel.writeInbound(request);
    FullHttpResponse response = channel.readOutbound();
    try {
      byte[] expected = "{\"name\":\"Grüße\"}".getBytes(StandardCharsets.UTF_8);
      assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH))
          .isEqualTo(expected.length);
      assertThat(response.content().toString(StandardCharsets.UTF_8))
          .isEqualTo("{\"name\":\"Grüße\"}");
    } finally {
      response.release();
    }
  }

  /** Sends one request with a body, checks it was released, returns the response status. */
  private HttpResponseStatus exchange(HttpMethod method, String uri) {
    FullHttpRequest request =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, method, uri, Unpooled.copiedBuffer(new byte[] {1, 2, 3}));

    channel.writeInbound(request);

    assertThat(request.refCnt()).as("request of %s %s", method, uri).isZero();
    FullHttpResponse response = channel.readOutbound();
    try {
      assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH))
          .isEqualTo(response.content().readableBytes());
      assertThat(channel.isOpen()).isTrue();
      return response.status();
    } finally {
      response.release();
      assertThat(response.refCnt()).isZero();
    }
  }
}
