package io.skiff.raft.metadata;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Encodes the commands of the metadata log: a type byte, then fields in {@link DataOutputStream}
 * encoding (big-endian, modified UTF-8 strings).
 *
 * <pre>
 *  1 REGISTER_BROKER      nodeId int | host utf | kafkaPort int | raftPort int | rack utf
 *  2 DECOMMISSION_BROKER  nodeId int
 *  3 CREATE_TOPIC         name utf | id (msb long, lsb long) | replicas | configs
 *  4 DELETE_TOPIC         name utf
 *  5 CREATE_PARTITIONS    name utf | replicas (of the new partitions)
 *  6 ASSIGN_REPLICAS      name utf | partition int | n int | n x nodeId int
 *  7 SET_CONFIGS          scope byte | resource utf | configs (a null value deletes)
 *  8 ALLOCATE_PRODUCER_IDS count int
 *  9 ALTER_REASSIGNMENT   name utf | partition int | present bool | replicas (one list) if present;
 *                         absent cancels the partition's reassignment
 * 10 COMPLETE_REASSIGNMENT name utf | partition int | replicas (one list: the voters now)
 * 11 SET_BROKER_STATE     nodeId int | state byte ({@link BrokerState#code})
 *
 *  replicas = n int | n x (m int | m x nodeId int)
 *  configs  = n int | n x (key utf | present bool | value utf if present)
 * </pre>
 */
final class MetadataCommand {
  static final byte REGISTER_BROKER = 1;
  static final byte DECOMMISSION_BROKER = 2;
  static final byte CREATE_TOPIC = 3;
  static final byte DELETE_TOPIC = 4;
  static final byte CREATE_PARTITIONS = 5;
  static final byte ASSIGN_REPLICAS = 6;
  static final byte SET_CONFIGS = 7;
  static final byte ALLOCATE_PRODUCER_IDS = 8;
  static final byte ALTER_REASSIGNMENT = 9;
  static final byte COMPLETE_REASSIGNMENT = 10;
  static final byte SET_BROKER_STATE = 11;

  static final byte SCOPE_CLUSTER = 0;
  static final byte SCOPE_TOPIC = 1;
  static final byte SCOPE_BROKER = 2;

  private MetadataCommand() {}

  static Message registerBroker(BrokerInfo b) {
    return encode(
        REGISTER_BROKER,
        out -> {
          out.writeInt(b.nodeId());
          out.writeUTF(b.host());
          out.writeInt(b.kafkaPort());
          out.writeInt(b.raftPort());
          out.writeUTF(b.rack());
        });
  }

  static Message decommissionBroker(int nodeId) {
    return encode(DECOMMISSION_BROKER, out -> out.writeInt(nodeId));
  }

  static Message setBrokerState(int nodeId, BrokerState state) {
    return encode(
        SET_BROKER_STATE,
        out -> {
          out.writeInt(nodeId);
          out.writeByte(state.code());
        });
  }

  static Message createTopic(
      String name, UUID id, List<List<Integer>> replicas, Map<String, String> configs) {
    return encode(
        CREATE_TOPIC,
        out -> {
          out.writeUTF(name);
          out.writeLong(id.getMostSignificantBits());
          out.writeLong(id.getLeastSignificantBits());
          writeReplicas(out, replicas);
          writeConfigs(out, configs);
        });
  }

  static Message deleteTopic(String name) {
    return encode(DELETE_TOPIC, out -> out.writeUTF(name));
  }

  static Message createPartitions(String name, List<List<Integer>> newReplicas) {
    return encode(
        CREATE_PARTITIONS,
        out -> {
          out.writeUTF(name);
          writeReplicas(out, newReplicas);
        });
  }

  static Message assignReplicas(String name, int partition, List<Integer> replicas) {
    return encode(
        ASSIGN_REPLICAS,
        out -> {
          out.writeUTF(name);
          out.writeInt(partition);
          writeReplicas(out, List.of(replicas));
        });
  }

  static Message setConfigs(byte scope, String resource, Map<String, String> configs) {
    return encode(
        SET_CONFIGS,
        out -> {
          out.writeByte(scope);
          out.writeUTF(resource);
          writeConfigs(out, configs);
        });
  }

  static Message allocateProducerIds(int count) {
    return encode(ALLOCATE_PRODUCER_IDS, out -> out.writeInt(count));
  }

  static Message alterReassignment(String name, int partition, List<Integer> target) {
    return encode(
        ALTER_REASSIGNMENT,
        out -> {
          out.writeUTF(name);
          out.writeInt(partition);
          out.writeBoolean(target != null);
          if (target != null) {
            writeReplicas(out, List.of(target));
          }
        });
  }

  static Message completeReassignment(String name, int partition, List<Integer> voters) {
    return encode(
        COMPLETE_REASSIGNMENT,
        out -> {
          out.writeUTF(name);
          out.writeInt(partition);
          writeReplicas(out, List.of(voters));
        });
  }

  static void writeReplicas(DataOutputStream out, List<List<Integer>> replicas) throws IOException {
    out.writeInt(replicas.size());
    for (List<Integer> partition : replicas) {
      out.writeInt(partition.size());
      for (int node : partition) {
        out.writeInt(node);
      }
    }
  }

  static void writeConfigs(DataOutputStream out, Map<String, String> configs) throws IOException {
    out.writeInt(configs.size());
    for (Map.Entry<String, String> e : configs.entrySet()) {
      out.writeUTF(e.getKey());
      out.writeBoolean(e.getValue() != null);
      if (e.getValue() != null) {
        out.writeUTF(e.getValue());
      }
    }
  }

  /** Writes fields of one command. */
  @FunctionalInterface
  interface Fields {
    void write(DataOutputStream out) throws IOException;
  }

  private static Message encode(byte type, Fields fields) {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(type);
      fields.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes.toByteArray()));
  }
}
