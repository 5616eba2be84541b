// MQTT publish throughput through a broker: one MQTT.js publisher -> broker ->
// one MQTT.js subscriber, a fixed number of messages, QoS 0 and QoS 1 (both
// legs). Brokers: wasmgoose (`mqttBroker`, on Deno and on Node), aedes (npm,
// Node) and mosquitto (Debian). Each broker runs as a child process on a free
// 127.0.0.1 port; the clients run here. Prints one JSON line per result:
//   {"bench":"mqtt_pub","broker":"wasmgoose-deno","qos":0,"messages":20000,
//    "payload":64,"seconds":0.41,"msgs_per_s":48780,"broker_user_us":3.1,
//    "broker_sys_us":9.5,"run":1}
// Usage: node bench/mqtt_bench.mjs [--messages N] [--payload BYTES] [--runs R]
//                                  [--brokers a,b,...] [--qos 0,1]
// Needs `make dist` (wasmgoose on Node). Runs are interleaved (A B C D A B …).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DENO = path.join(root, "node_modules/@deno/linux-x64-glibc/deno");

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}
const MESSAGES = Number(arg("messages", 20000));
const PAYLOAD = Number(arg("payload", 64));
const RUNS = Number(arg("runs", 1));
const QOS = arg("qos", "0,1").split(",").map(Number);
const ALL = ["wasmgoose-deno", "wasmgoose-node", "aedes", "mosquitto"];
// Also available: "wasmgoose-node-js": the C broker with every PUBLISH also
// handed to a JavaScript handler that reads its topic and payload (the cost of
// one crossing per message, a lower bound for a broker written in TypeScript).
const BROKERS = arg("brokers", ALL.join(",")).split(",");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("connect", () => (s.destroy(), resolve(true)));
    s.on("error", () => resolve(false));
  });
}

/** Starts a broker; resolves to { port, stop() }. */
async function startBroker(name) {
  const port = await freePort();
  let cmd, args, dir;
  if (name === "wasmgoose-deno") {
    cmd = DENO;
    args = ["run", "-A", path.join(root, "bench/servers/wasmgoose_mqtt.mjs"), String(port)];
  } else if (name === "wasmgoose-node" || name === "wasmgoose-node-js") {
    if (!existsSync(path.join(root, "dist/mod.js"))) throw new Error("run `make dist` first");
    cmd = process.execPath;
    args = [path.join(root, "bench/servers/wasmgoose_mqtt.mjs"), String(port)];
    if (name === "wasmgoose-node-js") args.push("--observe");
  } else if (name === "aedes") {
    cmd = process.execPath;
    args = [path.join(root, "bench/servers/aedes_mqtt.mjs"), String(port)];
  } else if (name === "mosquitto") {
    dir = mkdtempSync(path.join(os.tmpdir(), "wg-mqtt-bench-"));
    const conf = path.join(dir, "mosquitto.conf");
    writeFileSync(
      conf,
      `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n` +
        "max_queued_messages 0\nmax_inflight_messages 0\n",
    );
    cmd = "mosquitto";
    args = ["-c", conf];
  } else {
    throw new Error(`unknown broker ${name}`);
  }
  const proc = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"], cwd: root });
  let exited = false;
  proc.on("exit", () => (exited = true));
  const end = Date.now() + 15000;
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`${name} exited at start`);
    if (Date.now() > end) throw new Error(`${name} did not start`);
    await sleep(50);
  }
  return {
    port,
    pid: proc.pid,
    async stop() {
      if (!exited) {
        proc.kill("SIGTERM");
        for (let i = 0; i < 100 && !exited; i++) await sleep(50);
        if (!exited) proc.kill("SIGKILL");
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    c.once("connect", () => resolve(c));
    c.once("error", reject);
  });
}

/** CPU time (user, system) of a process in microseconds, from /proc. */
function cpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const tick = 1e6 / 100; // USER_HZ
    return { user: Number(f[11]) * tick, sys: Number(f[12]) * tick };
  } catch {
    return { user: NaN, sys: NaN };
  }
}

/** One measurement: seconds from the first publish to the last delivery. */
async function measure(port, qos) {
  const sub = await connect(port);
  const pub = await connect(port);
  const topic = `bench/${qos}`;
  await new Promise((r, j) => sub.subscribe(topic, { qos }, (e) => (e ? j(e) : r())));
  const payload = Buffer.alloc(PAYLOAD, 0x61);
  let got = 0;
  const done = new Promise((resolve) => {
    sub.on("message", () => {
      if (++got === MESSAGES) resolve();
    });
  });
  const t0 = performance.now();
  // Publish in windows so that QoS 0 does not just fill socket buffers
  const WINDOW = 1000;
  for (let sent = 0; sent < MESSAGES;) {
    const n = Math.min(WINDOW, MESSAGES - sent);
    const acks = [];
    for (let i = 0; i < n; i++) {
      acks.push(
        new Promise((r, j) => pub.publish(topic, payload, { qos }, (e) => (e ? j(e) : r()))),
      );
    }
    sent += n;
    await Promise.all(acks);
    while (sent - got > 4 * WINDOW) await sleep(1); // keep the subscriber close
  }
  const timeout = setTimeout(() => {
    console.error(`timeout: ${got}/${MESSAGES} delivered`);
    process.exit(1);
  }, 120000);
  await done;
  clearTimeout(timeout);
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all([
    new Promise((r) => sub.end(false, {}, r)),
    new Promise((r) => pub.end(false, {}, r)),
  ]);
  return seconds;
}

for (let run = 1; run <= RUNS; run++) {
  for (const name of BROKERS) {
    const broker = await startBroker(name);
    try {
      for (const qos of QOS) {
        const c0 = cpu(broker.pid);
        const seconds = await measure(broker.port, qos);
        const c1 = cpu(broker.pid);
        console.log(JSON.stringify({
          bench: "mqtt_pub",
          broker: name,
          qos,
          messages: MESSAGES,
          payload: PAYLOAD,
          seconds: Number(seconds.toFixed(3)),
          msgs_per_s: Math.round(MESSAGES / seconds),
          // broker CPU per message (user / system), microseconds
          broker_user_us: Number(((c1.user - c0.user) / MESSAGES).toFixed(2)),
          broker_sys_us: Number(((c1.sys - c0.sys) / MESSAGES).toFixed(2)),
          run,
        }));
      }
    } finally {
      await broker.stop();
    }
  }
}
process.exit(0);
