// serve.mjs starts one local AWS-compatible server for lakekit's tests on
// 127.0.0.1 and prints "READY <port>" on stdout once it accepts connections.
// It is started, and stopped by process id, by internal/awstest (Go).
//
//   node serve.mjs <fauxqs|dynalite|s3rver|kinesis|stepfunctions> <port> [directory]
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const require = createRequire(import.meta.url);
const [kind, portArg, directory] = process.argv.slice(2);
const port = Number(portArg);
const host = "127.0.0.1";

function ready() {
  process.stdout.write(`READY ${port}\n`);
}

// The Go side closes our stdin when it goes away (even on a crash); leave with it.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

switch (kind) {
  case "fauxqs": {
    const { buildApp } = await import("fauxqs");
    const app = buildApp({ logger: false });
    await app.listen({ port, host });
    ready();
    break;
  }
  case "dynalite": {
    const dynalite = require("dynalite");
    // dynalite 4 rethrows a request's "aborted" error (a client that closes
    // its connection mid-request, as a canceled context does), which kills
    // the whole server under every other test. DynamoDB shrugs such a
    // client off; so does this server. Any other uncaught error still ends it.
    process.on("uncaughtException", (err) => {
      if (err && err.code === "ECONNRESET" && err.message === "aborted") return;
      process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    });
    const server = dynalite({ createTableMs: 50, deleteTableMs: 50, updateTableMs: 50 });
    server.listen(port, host, ready);
    break;
  }
  case "s3rver": {
    const S3rver = require("@20minutes/s3rver");
    const server = new S3rver({ address: host, port, directory, silent: true });
    await server.run();
    ready();
    break;
  }
  case "kinesis": {
    // kinesis-local (a Scala.js build of kinesis-mock) hard-codes 0.0.0.0 as
    // its bind address; run a copy bound to loopback instead. The copy lives
    // in the scratch directory the Go side gives us.
    const original = require.resolve("kinesis-local/main.js");
    const src = fs.readFileSync(original, "utf8");
    const needle = 'Host$().em("0.0.0.0")';
    if (!src.includes(needle)) {
      process.stderr.write(`serve.mjs: ${original} no longer binds 0.0.0.0 the known way; update serve.mjs\n`);
      process.exit(3);
    }
    fs.mkdirSync(directory, { recursive: true });
    const copy = path.join(directory, "kinesis-local-loopback.cjs");
    fs.writeFileSync(copy, src.replace(needle, 'Host$().em("127.0.0.1")'));
    fs.copyFileSync(path.join(path.dirname(original), "server.json"), path.join(directory, "server.json"));
    process.chdir(directory);
    require(copy);
    await waitForPort(port);
    ready();
    break;
  }
  case "stepfunctions": {
    // stepfunctions-local calls express's app.listen(port), which binds every
    // interface; bind its express instance to loopback instead.
    const sfnRequire = createRequire(require.resolve("stepfunctions-local/src/server.js"));
    const express = sfnRequire("express");
    const http = require("node:http");
    express.application.listen = function (p, cb) {
      return http.createServer(this).listen(p, host, cb);
    };
    sfnRequire("./server.js").start({ port, region: "us-east-1" });
    await waitForPort(port);
    ready();
    break;
  }
  default:
    process.stderr.write(`serve.mjs: unknown server kind ${JSON.stringify(kind)}\n`);
    process.exit(2);
}

async function waitForPort(p) {
  for (;;) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect({ port: p, host }, () => { sock.destroy(); resolve(true); });
      sock.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
