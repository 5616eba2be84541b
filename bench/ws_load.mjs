#!/usr/bin/env node
// WebSocket echo load generator for `make bench` (Node, the `ws` package as client).
//
//   node bench/ws_load.mjs ws://127.0.0.1:18006/ws [--conns=50] [--inflight=1]
//        [--size=64] [--warmup=1] [--duration=3] [--pid=PID]
//
// Opens `conns` connections (permessage-deflate off); each keeps `inflight` binary
// messages of `size` bytes in flight: every echo received is answered with the next
// message right away (inflight=1 is a ping-pong). After `warmup` seconds the counters
// are reset and the measured period of `duration` seconds begins. Echoes arrive in
// order on a connection, so each connection keeps a FIFO of send times for the
// round-trip latency.
//
// With --pid, the server's utime/stime (clock ticks, /proc/<pid>/stat) are read at
// the exact start and end of the measured period, so the harness can divide the
// server's CPU time by the echoes of that same period.
//
// Prints one JSON line on stdout:
//   { messages, seconds, rate, p50Ms, p99Ms, errors, conns, userTicks, sysTicks }
// errors = connections that failed to open or closed/errored during the run +
// echoes of the wrong size. Exits 1 if no connection could be opened.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import process from "node:process";
import WebSocket from "ws";

function parseArgs(argv) {
  const o = { conns: 50, inflight: 1, size: 64, warmup: 1, duration: 3, pid: 0, url: "" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      if (o.url) throw new Error(`unexpected argument "${a}"`);
      o.url = a;
      continue;
    }
    const key = m[1];
    if (!(key in o) || key === "url") throw new Error(`unknown option --${key}`);
    const v = Number(m[2] ?? argv[++i]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${key} needs a number`);
    o[key] = v;
  }
  if (!o.url) throw new Error("usage: ws_load.mjs URL [--conns=N] [--inflight=K] [--size=B] …");
  for (const k of ["conns", "inflight", "size"]) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`--${k} must be a positive integer`);
  }
  return o;
}

/** utime and stime (clock ticks) of a process, all threads; null without a pid. */
function cpuTicks(pid) {
  if (!pid) return null;
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    throw new Error(`server process ${pid} is gone`);
  }
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]), sys: Number(f[12]) };
}

const opts = parseArgs(process.argv.slice(2));
const { conns, inflight, size } = opts;
const payload = Buffer.alloc(size, 0x61); // binary; ws masks a copy, never this buffer

let running = false; // send the next message on every echo
let measuring = false; // count echoes and latencies
let messages = 0;
let errors = 0;
let lat = new Float64Array(1 << 16);
let nLat = 0;

function record(ms) {
  if (nLat === lat.length) {
    const bigger = new Float64Array(lat.length * 2);
    bigger.set(lat);
    lat = bigger;
  }
  lat[nLat++] = ms;
}

/** One client connection and its FIFO of send times. */
class Client {
  constructor(url) {
    this.sent = new Float64Array(inflight);
    this.head = 0;
    this.tail = 0;
    this.open = false;
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.binaryType = "nodebuffer";
    this.ws.on("message", (data) => this.onMessage(data));
    this.ws.on("error", () => {
      errors++;
    });
    this.ws.on("close", () => {
      if (running && this.open) errors++;
      this.open = false;
    });
    this.opened = new Promise((resolve) => {
      this.ws.once("open", () => {
        this.open = true;
        resolve(true);
      });
      this.ws.once("close", () => resolve(false));
    });
  }

  send(now) {
    this.sent[this.tail] = now;
    this.tail = (this.tail + 1) % inflight;
    this.ws.send(payload);
  }

  onMessage(data) {
    const now = performance.now();
    const t0 = this.sent[this.head];
    this.head = (this.head + 1) % inflight;
    if (data.length !== size) errors++;
    if (measuring) {
      messages++;
      record(now - t0);
    }
    if (running) this.send(now);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted, n, p) {
  if (n === 0) return NaN;
  return sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)];
}

async function main() {
  const clients = Array.from({ length: conns }, () => new Client(opts.url));
  const ok = await Promise.race([
    Promise.all(clients.map((c) => c.opened)),
    sleep(10_000).then(() => null),
  ]);
  const live = clients.filter((c) => c.open);
  if (!ok) console.error(`ws_load: ${conns - live.length} connection(s) still not open after 10 s`);
  if (live.length === 0) {
    console.error(`ws_load: no connection to ${opts.url} could be opened`);
    process.exit(1);
  }

  running = true;
  const now = performance.now();
  for (const c of live) for (let k = 0; k < inflight; k++) c.send(now);
  await sleep(opts.warmup * 1000);

  errors = clients.length - live.length; // warm-up errors other than failed opens are not counted
  messages = 0;
  nLat = 0;
  measuring = true;
  const cpu0 = cpuTicks(opts.pid);
  const t0 = performance.now();
  await sleep(opts.duration * 1000);
  const cpu1 = cpuTicks(opts.pid);
  const seconds = (performance.now() - t0) / 1000;
  measuring = false;
  running = false;
  const counted = messages;
  const errs = errors;

  // Close politely; whatever does not finish within a second is cut off.
  const closed = Promise.all(clients.map((c) =>
    new Promise((r) => {
      if (c.ws.readyState === WebSocket.CLOSED) return r();
      c.ws.once("close", r);
      c.ws.close(1000);
    })
  ));
  await Promise.race([closed, sleep(1000)]);
  for (const c of clients) c.ws.terminate();

  const sorted = lat.subarray(0, nLat).sort();
  const result = {
    messages: counted,
    seconds,
    rate: counted / seconds,
    p50Ms: percentile(sorted, nLat, 50),
    p99Ms: percentile(sorted, nLat, 99),
    errors: errs,
    conns: live.length,
    userTicks: cpu1 ? cpu1.user - cpu0.user : null,
    sysTicks: cpu1 ? cpu1.sys - cpu0.sys : null,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

main().catch((err) => {
  console.error(`ws_load: ${err.stack ?? err}`);
  process.exit(1);
});
