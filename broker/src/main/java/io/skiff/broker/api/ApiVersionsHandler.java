package io.skiff.broker.api;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** ApiVersions: every registered API with its version range. */
public final class ApiVersionsHandler implements ApiHandler {
  private final ApiRegistry registry;

  public ApiVersionsHandler(ApiRegistry registry) {
    this.registry = registry;
  }

  @Override
  public CompletableFuture<ApiMessage> handle(RequestContext context, ApiMessage request) {
    final ApiVersionsResponseData response =
        new ApiVersionsResponseData().setErrorCode(Errors.NONE.code()).setThrottleTimeMs(0);
    for (ApiRegistry.Entry e : registry.entries().values()) {
      response
          .apiKeys()
          .add(
              new ApiVersionsResponseData.ApiVersion()
                  .setApiKey(e.key().id)
                  .setMinVersion(e.minVersion())
                  .setMaxVersion(e.maxVersion()));
    }
    return CompletableFuture.completedFuture(response);
  }
}
