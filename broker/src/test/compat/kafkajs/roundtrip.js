// kafkajs against a Skiff cluster: produce COUNT messages, consume them in a consumer group
// (committing as it goes), and print one JSON line with what happened.
// usage: node roundtrip.js BOOTSTRAP TOPIC GROUP COUNT
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, groupId, countArg] = process.argv.slice(2);
const count = Number(countArg);
const kafka = new Kafka({
  clientId: 'skiff-kafkajs-compat',
  brokers: bootstrap.split(','),
  logLevel: logLevel.WARN,
  retry: { retries: 10 },
});

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  await admin.disconnect();

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = [];
  for (let i = 0; i < count; i++) {
    messages.push({ key: `k${i % 7}`, value: `kafkajs-${i}` });
  }
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, rebalanceTimeout: 10000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Set();
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${seen.size} of ${count} in 60 s`)), 60000);
    consumer.run({
      autoCommit: true,
      eachMessage: async ({ message }) => {
        seen.add(message.value.toString());
        if (seen.size === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await done;
  await consumer.commitOffsets([]); // flushes what autoCommit resolved
  await consumer.disconnect();

  console.log(
    JSON.stringify({
      partitions: metadata.topics[0].partitions.length,
      produced: count,
      consumed: seen.size,
    }),
  );
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
