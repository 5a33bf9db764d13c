"""confluent-kafka-python (librdkafka) idempotent producer whose first Produce responses are lost
on the way back (the test's proxy drops them): every message must still be delivered, once.
Produces COUNT messages in batches of 10 to partition 0, then reads the partition back.
Prints one JSON line.

usage: python3 idempotent_retries.py BOOTSTRAP TOPIC COUNT
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

producer = Producer(
    {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "batch.num.messages": 10,
        "linger.ms": 500,
        "retry.backoff.ms": 10,
        "request.timeout.ms": 3000,
        "socket.timeout.ms": 3000,
        "message.timeout.ms": 90000,
    }
)
delivered = []
failures = []


def on_delivery(err, msg):
    if err is not None:
        failures.append(str(err))
    else:
        delivered.append(msg.offset())


for i in range(count):
    producer.produce(topic, value=f"m-{i}", partition=0, on_delivery=on_delivery)
    producer.poll(0)
left = producer.flush(120)

consumer = Consumer(
    {"bootstrap.servers": bootstrap, "group.id": "idempotent-check", "enable.auto.commit": False}
)
consumer.assign([TopicPartition(topic, 0, 0)])
values = []
deadline = time.time() + 60
while len(values) < count and time.time() < deadline:
    msg = consumer.poll(1.0)
    if msg is None:
        continue
    if msg.error():
        raise KafkaException(msg.error())
    values.append(msg.value().decode())
consumer.close()
print(
    json.dumps(
        {
            "delivered": len(delivered),
            "distinct_offsets": len(set(delivered)),
            "undelivered": left,
            "failures": failures[:3],
            "stored": len(values),
            "stored_in_order": values == [f"m-{i}" for i in range(len(values))],
        }
    )
)
