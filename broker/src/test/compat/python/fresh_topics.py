"""confluent-kafka-python (librdkafka) producing to topics created the moment before: for each
topic, CreateTopics, then at once one message to every partition, flushed within a deadline.
Prints one JSON line: topics tried, messages delivered, and the first failures.

usage: python3 fresh_topics.py BOOTSTRAP PREFIX TOPICS PARTITIONS REPLICATION_FACTOR
"""
import json
import sys

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, prefix = sys.argv[1], sys.argv[2]
topics, partitions, rf = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

admin = AdminClient({"bootstrap.servers": bootstrap})
producer = Producer(
    {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "message.timeout.ms": 30000,
        "enable.idempotence": True,
    }
)
delivered = []
failures = []


def on_delivery(err, msg):
    if err is not None:
        failures.append(f"{msg.topic()}[{msg.partition()}]: {err}")
    else:
        delivered.append((msg.topic(), msg.partition()))


for t in range(topics):
    name = f"{prefix}-{t}"
    admin.create_topics([NewTopic(name, partitions, rf)])[name].result(30)
    for p in range(partitions):
        producer.produce(name, value=f"{name}-{p}", partition=p, on_delivery=on_delivery)
    producer.poll(0)
left = producer.flush(60)
print(
    json.dumps(
        {
            "topics": topics,
            "delivered": len(delivered),
            "undelivered": left,
            "failures": failures[:3],
        }
    )
)
