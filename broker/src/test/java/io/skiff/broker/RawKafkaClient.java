package io.skiff.broker;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
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

  /**
   * Fetch v16 of one partition, named by topic id, from {@code offset}: no waiting, up to 1 MiB;
   * {@code currentLeaderEpoch} -1 asks for no epoch check.
   */
  FetchResponseData fetch(Uuid topicId, int partition, long offset, int currentLeaderEpoch)
      throws IOException {
    final FetchRequestData data =
        new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20);
    data.topics()
        .add(
            new FetchRequestData.FetchTopic()
                .setTopicId(topicId)
                .setPartitions(
                    List.of(
                        new FetchRequestData.FetchPartition()
                            .setPartition(partition)
                            .setCurrentLeaderEpoch(currentLeaderEpoch)
                            .setFetchOffset(offset)
                            .setPartitionMaxBytes(1 << 20))));
    return ((FetchResponse) call(new FetchRequest(data, (short) 16))).data();
  }

  /** Metadata v12 of one topic, which it does not create. */
  MetadataResponseData metadata(String topic) throws IOException {
    final MetadataRequestData data =
        new MetadataRequestData()
            .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(topic)))
            .setAllowAutoTopicCreation(false);
    return ((MetadataResponse) call(new MetadataRequest.Builder(data).build((short) 12))).data();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
