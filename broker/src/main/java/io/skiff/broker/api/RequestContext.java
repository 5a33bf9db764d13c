package io.skiff.broker.api;

import java.net.SocketAddress;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * What a handler knows about a request besides its body.
 *
 * @param header the parsed request header (API key, version, correlation id, client id)
 * @param clientAddress the peer's address
 */
public record RequestContext(RequestHeader header, SocketAddress clientAddress) {
  public ApiKeys apiKey() {
    return header.apiKey();
  }

  public short version() {
    return header.apiVersion();
  }
}
