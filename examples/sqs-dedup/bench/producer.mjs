// producer.mjs: the npm sqs-producer (BBC) sending N messages to a queue,
// split across C concurrent send() calls (each send() is sequential inside).
//   node producer.mjs <node_modules dir> <endpoint> <queueUrl> <count> <bodyBytes> <concurrency>
// Prints one line: "msgs/s <rate>".
import { createRequire } from "node:module";
import path from "node:path";

const [modules, endpoint, queueUrl, countArg, bodyArg, concArg] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const { Producer } = require("sqs-producer");
const { SQSClient } = require("@aws-sdk/client-sqs");

const count = Number(countArg), bodyBytes = Number(bodyArg), conc = Number(concArg);
const sqs = new SQSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
const producer = Producer.create({ queueUrl, sqs, batchSize: 10 });
const pad = "x".repeat(bodyBytes);
const messages = [];
for (let i = 0; i < count; i++) {
  const s = `{"id":"row-${String(i).padStart(8, "0")}","p":"`;
  messages.push({ id: `m${i}`, body: s + pad.slice(0, bodyBytes - s.length - 2) + `"}` });
}
const per = Math.ceil(count / conc);
const start = process.hrtime.bigint();
const results = await Promise.all(Array.from({ length: conc }, (_, k) => producer.send(messages.slice(k * per, (k + 1) * per))));
const secs = Number(process.hrtime.bigint() - start) / 1e9;
const sent = results.reduce((n, r) => n + r.length, 0);
if (sent !== count) {
  console.error(`sent ${sent} of ${count}`);
  process.exit(1);
}
console.log(`msgs/s ${(count / secs).toFixed(0)}`);
