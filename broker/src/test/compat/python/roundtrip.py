"""confluent-kafka-python against a Skiff cluster: an idempotent producer, a consumer group with
synchronous commits, and the committed offsets read back. Prints one JSON line.

usage: python3 roundtrip.py BOOTSTRAP TOPIC GROUP COUNT
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
failures = []


def delivered(err, msg):
    if err is not None:
        failures.append(str(err))


for i in range(count):
    producer.produce(topic, key=f"k{i % 5}", value=f"python-{i}", on_delivery=delivered)
    producer.poll(0)
left = producer.flush(60)
if left or failures:
    sys.exit(f"{left} messages undelivered, failures: {failures[:3]}")

consumer = Consumer(
    {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
    }
)
consumer.subscribe([topic])
seen = set()
deadline = time.time() + 60
while len(seen) < count and time.time() < deadline:
    msg = consumer.poll(1.0)
    if msg is None:
        continue
    if msg.error():
        raise KafkaException(msg.error())
    seen.add(msg.value().decode())
    consumer.commit(message=msg, asynchronous=False)
assigned = consumer.assignment()
committed = consumer.committed(assigned, timeout=10)
consumer.close()
if len(seen) < count:
    sys.exit(f"consumed {len(seen)} of {count} in 60 s")
print(
    json.dumps(
        {
            "produced": count,
            "consumed": len(seen),
            "committed": sum(tp.offset for tp in committed if tp.offset >= 0),
        }
    )
)
