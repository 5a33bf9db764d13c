package io.skiff.broker;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * One Kafka connection driven request by request with kafka-clients' codec, for tests that need to
 * see response fields (throttle_time_ms) or time single requests.
 */
final class RawKafkaClient implements AutoCloseable {
  private final Socket socket;
  private final DataOutputStream out;
  private final DataInputStream in;
  private int correlationId;

  RawKafkaClient(int port) throws IOException {
    this.socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(60_000);
    this.out = new DataOutputStream(socket.getOutputStream());
    this.in = new DataInputStream(socket.getInputStream());
  }

  /** Sends a request; returns the header to {@link #receive} its answer with. */
  RequestHeader send(AbstractRequest request) throws IOException {
    final RequestHeader header =
        new RequestHeader(request.apiKey(), request.version(), "raw-test", ++correlationId);
    final ByteBuffer bytes = request.serializeWithHeader(header);
    out.writeInt(bytes.remaining());
    out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
    out.flush();
    return header;
  }

  AbstractResponse receive(RequestHeader header) throws IOException {
    final byte[] body = new byte[in.readInt()];
    in.readFully(body);
    return AbstractResponse.parseResponse(ByteBuffer.wrap(body), header);
  }

  AbstractResponse call(AbstractRequest request) throws IOException {
    return receive(send(request));
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
