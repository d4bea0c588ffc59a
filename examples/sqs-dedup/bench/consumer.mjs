// consumer.mjs: the npm sqs-consumer (BBC) draining N messages from a queue
// with C consumers in parallel, batch handler (returns the messages to
// delete), batchSize 10.
//   node consumer.mjs <node_modules dir> <endpoint> <queueUrl> <count> <concurrency>
// Prints one line: "msgs/s <rate>".
import { createRequire } from "node:module";
import path from "node:path";

const [modules, endpoint, queueUrl, countArg, concArg] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const { Consumer } = require("sqs-consumer");
const { SQSClient } = require("@aws-sdk/client-sqs");

const count = Number(countArg), conc = Number(concArg);
const sqs = new SQSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
let done = 0;
let finish;
const finished = new Promise((r) => (finish = r));
const consumers = [];
const start = process.hrtime.bigint();
for (let i = 0; i < conc; i++) {
  const c = Consumer.create({
    queueUrl, sqs, batchSize: 10, waitTimeSeconds: 1,
    handleMessageBatch: async (msgs) => {
      done += msgs.length;
      if (done >= count) setImmediate(finish);
      return msgs;
    },
  });
  c.on("error", (err) => console.error("consumer error:", err.message));
  c.start();
  consumers.push(c);
}
await finished;
const secs = Number(process.hrtime.bigint() - start) / 1e9;
for (const c of consumers) c.stop();
console.log(`msgs/s ${(count / secs).toFixed(0)}`);
process.exit(0);
