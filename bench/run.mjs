#!/usr/bin/env node
// wasmgoose benchmark orchestrator (`make bench`). Plain Node ESM; the only package
// it uses is `ws`, in the WebSocket load generator (bench/ws_load.mjs).
//
// Two workloads, one after the other, each with its own set of servers:
// - hello: `GET /` hello JSON, loaded by wrk;
// - ws: WebSocket echo of 64 B and 16 KiB binary messages, loaded by ws_load.mjs.
// Per workload, every server is started once, each on its own 127.0.0.1 port, then
// interleaved rounds run (A B C … A B C …): per server a warm-up (discarded) and a
// measured load run, sampling the server's CPU time (/proc/<pid>/stat utime+stime)
// around the measured period. Writes a Markdown report (default bench/RESULTS.md)
// with medians.
//
// Options (KEY=VALUE or --key=value arguments override the environment):
//   WORKLOADS=hello,ws  ROUNDS=3  ONLY=name,name  OUT=bench/RESULTS.md  PORT_BASE=18001
//   hello: DURATION=5s  WARMUP=2s  CONNS=100  THREADS=1  TOOL=wrk
//   ws:    WS_DURATION=3s  WS_WARMUP=1s  WS_CONNS=50  WS_INFLIGHT=1  WS_SIZES=64,16384
// See bench/README.md.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const DENO = path.join(ROOT, "node_modules/@deno/linux-x64-glibc/deno");
const NODE = process.execPath;
const EXPECTED_BODY = '{"message":"Hello, World!"}';
const START_TIMEOUT_MS = 20_000;
const SETTLE_MS = 250; // after a load run, let the server finish closing connections
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

// ---------------------------------------------------------------------------------
// Configuration

function readConfig(argv, env) {
  const opts = { ...env };
  for (const arg of argv) {
    const m = /^(?:--)?([A-Za-z_]+)=(.*)$/.exec(arg);
    if (!m) throw new Error(`bad argument "${arg}" (expected KEY=VALUE, e.g. ROUNDS=5)`);
    opts[m[1].toUpperCase()] = m[2];
  }
  const int = (key, def) => {
    const v = opts[key] === undefined || opts[key] === "" ? def : Number(opts[key]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${key} must be a positive integer`);
    return v;
  };
  const list = (key, def) =>
    (opts[key] ? opts[key].split(",") : def).map((x) => x.trim()).filter(Boolean);
  const workloads = list("WORKLOADS", ["hello", "ws"]);
  for (const w of workloads) {
    if (!WORKLOADS.includes(w)) {
      throw new Error(`unknown workload "${w}" in WORKLOADS (known: ${WORKLOADS.join(", ")})`);
    }
  }
  const wsSizes = list("WS_SIZES", ["64", "16384"]).map(Number);
  if (!wsSizes.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error("WS_SIZES must be a comma list of positive integers (bytes)");
  }
  return {
    workloads,
    rounds: int("ROUNDS", 3),
    duration: opts.DURATION || "5s",
    warmup: opts.WARMUP || "2s",
    conns: int("CONNS", 100),
    threads: int("THREADS", 1),
    portBase: int("PORT_BASE", 18001),
    only: opts.ONLY ? opts.ONLY.split(",").map((s) => s.trim()).filter(Boolean) : null,
    out: path.resolve(opts.OUT || path.join(BENCH_DIR, "RESULTS.md")),
    tool: opts.TOOL || "wrk",
    wsDuration: opts.WS_DURATION || "3s",
    wsWarmup: opts.WS_WARMUP || "1s",
    wsConns: int("WS_CONNS", 50),
    wsInflight: int("WS_INFLIGHT", 1),
    wsSizes,
  };
}

const WORKLOADS = ["hello", "ws"];

/** "5s", "500ms", "1m" or a bare number of seconds → seconds. */
function toSeconds(t) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(t).trim());
  if (!m) throw new Error(`bad duration "${t}"`);
  return Number(m[1]) * { ms: 1e-3, s: 1, m: 60, h: 3600 }[m[2] || "s"];
}

// ---------------------------------------------------------------------------------
// Servers under test. `entry` must exist or the server is reported as skipped.
// `runtime` + `role` drive the ratio columns: a wasmgoose server is compared with
// the competitor of the same runtime.

const SERVERS = [
  {
    name: "wasmgoose-deno",
    label: "wasmgoose on Deno",
    runtime: "deno",
    role: "wasmgoose",
    entry: "mod.ts",
    cmd: (port) => [DENO, "run", "-A", "mod.ts", "--listen", `http://127.0.0.1:${port}`],
  },
  {
    name: "wasmgoose-node",
    label: "wasmgoose on Node",
    runtime: "node",
    role: "wasmgoose",
    entry: "dist/src/bin.js",
    cmd: (port) => [NODE, "dist/src/bin.js", "--listen", `http://127.0.0.1:${port}`],
  },
  {
    name: "deno-serve",
    label: "Deno.serve",
    runtime: "deno",
    role: "competitor",
    entry: "bench/servers/deno_serve.ts",
    cmd: (port) => [DENO, "run", "--allow-net", "bench/servers/deno_serve.ts", String(port)],
  },
  {
    name: "node-http",
    label: "node:http",
    runtime: "node",
    role: "competitor",
    entry: "bench/servers/node_http.mjs",
    cmd: (port) => [NODE, "bench/servers/node_http.mjs", String(port)],
  },
  {
    name: "native-c",
    label: "native C (Mongoose core)",
    runtime: "native",
    role: "baseline",
    entry: "bench/native/hello",
    cmd: (port) => [path.join(ROOT, "bench/native/hello"), String(port)],
  },
];

// WebSocket echo servers: every message on /ws comes back as is. Ports follow the
// hello servers' (PORT_BASE + 5 + index). `needs`: further files that must exist.
const WS_SERVERS = [
  {
    name: "wasmgoose-deno",
    label: "wasmgoose on Deno",
    runtime: "deno",
    role: "wasmgoose",
    entry: "bench/servers/wasmgoose_ws.mjs",
    needs: ["mod.ts"],
    cmd: (port) => [DENO, "run", "-A", "bench/servers/wasmgoose_ws.mjs", String(port)],
  },
  {
    name: "wasmgoose-node",
    label: "wasmgoose on Node",
    runtime: "node",
    role: "wasmgoose",
    entry: "bench/servers/wasmgoose_ws.mjs",
    needs: ["dist/mod.js"],
    cmd: (port) => [NODE, "bench/servers/wasmgoose_ws.mjs", String(port)],
  },
  {
    name: "ws-node",
    label: "ws (npm) on Node",
    runtime: "node",
    role: "competitor",
    entry: "bench/servers/ws_node.mjs",
    needs: ["node_modules/ws/package.json"],
    cmd: (port) => [NODE, "bench/servers/ws_node.mjs", String(port)],
  },
  {
    name: "deno-ws",
    label: "Deno.serve + upgradeWebSocket",
    runtime: "deno",
    role: "competitor",
    entry: "bench/servers/deno_ws.ts",
    cmd: (port) => [DENO, "run", "--allow-net", "bench/servers/deno_ws.ts", String(port)],
  },
];
const WS_LOAD = path.join(BENCH_DIR, "ws_load.mjs");

// ---------------------------------------------------------------------------------
// Load generators. Each tool: bin, argv builder and an output parser returning
// { requests, rps, p50Ms, p99Ms, errors }. To add bombardier, implement the same
// shape (e.g. `bombardier -c N -d D -l -o json -p r URL` and parse its JSON) and
// register it here; nothing else in the harness depends on the tool.

const TOOLS = {
  wrk: {
    bin: "wrk",
    args: (
      { url, duration, conns, threads },
    ) => ["-t", String(threads), "-c", String(conns), "-d", duration, "--latency", url],
    parse: parseWrk,
  },
  // bombardier: { bin: "bombardier", args: (o) => [...], parse: parseBombardier },
};

/** wrk latency value ("812.00us", "1.23ms", "2.00s") → milliseconds. */
function wrkTimeMs(s) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[m[2]];
}

function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const requests = num(/(\d+) requests in /);
  const rps = num(/Requests\/sec:\s+([\d.]+)/);
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, "m").exec(out);
    return m ? wrkTimeMs(m[1]) : NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  if (!requests || !rps) throw new Error(`could not parse wrk output:\n${out}`);
  return { requests, rps, p50Ms: pct(50), p99Ms: pct(99), errors: socketErrors + non2xx };
}

// ---------------------------------------------------------------------------------
// Child processes. Everything we spawn is tracked so that exit paths kill exactly
// those processes (by PID), never anything else.

const children = new Set();
let aborting = false; // set on SIGINT/SIGTERM: stop quietly, write no report

/** Spawn a process, keep the tail of its output (so pipes never block). */
function spawnTracked(argv, { cwd = ROOT, keep = 16384 } = {}) {
  const child = spawn(argv[0], argv.slice(1), {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  });
  child.output = "";
  const collect = (chunk) => {
    child.output = (child.output + chunk).slice(-keep);
  };
  child.stdout.setEncoding("utf8").on("data", collect);
  child.stderr.setEncoding("utf8").on("data", collect);
  child.exited = new Promise((resolve) => {
    child.on("error", (err) => {
      child.output += `\n[spawn error] ${err.message}`;
      resolve(-1);
    });
    child.on("exit", (code, signal) => resolve(signal ?? code));
  });
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

/** Run a tool to completion; resolves with its stdout+stderr, rejects on failure. */
async function runTool(argv) {
  const child = spawnTracked(argv, { keep: 1 << 20 });
  const status = await child.exited;
  if (status !== 0) throw new Error(`${argv.join(" ")} failed (${status}):\n${child.output}`);
  return child.output;
}

async function killAll() {
  const pending = [...children];
  for (const c of pending) c.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const c of pending) if (c.exitCode === null) c.kill("SIGKILL");
  }, 2000);
  await Promise.all(pending.map((c) => c.exited));
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------
// /proc sampling

/** utime and stime (clock ticks) of a process, all threads included. */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the "(comm)" field: state is field 3, so utime (14) and stime (15)
  // are at indexes 11 and 12. comm may contain spaces, hence the lastIndexOf.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]), sys: Number(f[12]) };
}

/** Peak resident set size in kB (VmHWM). */
function peakRssKb(pid) {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

// ---------------------------------------------------------------------------------
// Server lifecycle

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer().once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Hello readiness: GET / answers 200. Returns a warning string (odd body) or "". */
async function httpProbe(s) {
  const res = await fetch(s.url, { signal: AbortSignal.timeout(1000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET / returned ${res.status}`);
  return body.trim() === EXPECTED_BODY
    ? ""
    : `GET / body differs from ${EXPECTED_BODY}: ${JSON.stringify(body.slice(0, 120))}`;
}

/**
 * WebSocket readiness, with no client library: the handshake on /ws must answer
 * 101, then one masked binary frame ("ping") must come back unmasked and unchanged.
 */
function wsProbe(s) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(s.port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const fail = (msg) => {
      sock.destroy();
      reject(new Error(msg));
    };
    sock.setTimeout(1000, () => fail("WebSocket probe timed out"));
    sock.on("error", (err) => fail(err.code ?? err.message));
    sock.on("close", () => fail("connection closed during the WebSocket probe"));
    sock.on("connect", () => {
      sock.write(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    const ping = Buffer.from("ping");
    const mask = Buffer.from([1, 2, 3, 4]);
    sock.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = buf.subarray(0, buf.indexOf("\r\n")).toString("latin1");
        if (!/^HTTP\/1\.1 101 /.test(status)) return fail(`GET /ws answered "${status}"`);
        upgraded = true;
        buf = buf.subarray(end + 4);
        const masked = ping.map((b, i) => b ^ mask[i & 3]);
        sock.write(Buffer.concat([Buffer.from([0x82, 0x80 | ping.length]), mask, masked]));
      }
      if (buf.length < 2 + ping.length) return;
      if (buf[0] === 0x82 && buf[1] === ping.length && buf.subarray(2, 6).equals(ping)) {
        sock.removeAllListeners("close");
        sock.destroy();
        resolve("");
      } else {
        fail(`bad echo frame ${buf.subarray(0, 16).toString("hex")}`);
      }
    });
  });
}

/** Start one server and wait until its probe succeeds. Returns a warning string or "". */
async function startServer(s) {
  if (!(await portIsFree(s.port))) throw new Error(`port ${s.port} is already in use`);
  s.child = spawnTracked(s.cmd(s.port));
  let exitStatus;
  s.child.exited.then((st) => {
    exitStatus = st;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = "";
  while (Date.now() < deadline) {
    if (exitStatus !== undefined) break;
    try {
      return await s.probe(s);
    } catch (err) {
      lastError = err.cause?.code ?? err.message;
    }
    await sleep(100);
  }
  const why = exitStatus !== undefined
    ? `exited (${exitStatus}) before answering`
    : `no ${s.ready} within ${START_TIMEOUT_MS / 1000}s (last: ${lastError})`;
  throw new Error(`${why}\n--- ${s.name} output ---\n${s.child.output.trim() || "(none)"}\n---`);
}

// ---------------------------------------------------------------------------------
// Measurement

function assertAlive(s) {
  const c = s.child;
  if (c.exitCode !== null || c.signalCode !== null) {
    throw new Error(`server exited (${c.signalCode ?? c.exitCode})`);
  }
}

/** One load run against a server; with `measure`, sample the server's CPU around it. */
async function loadRun(cfg, s, duration, measure) {
  const tool = TOOLS[cfg.tool];
  const argv = [
    tool.bin,
    ...tool.args({ url: s.url, duration, conns: cfg.conns, threads: cfg.threads }),
  ];
  assertAlive(s);
  const before = measure ? cpuTicks(s.child.pid) : null;
  const out = await runTool(argv);
  if (!measure) return null;
  await sleep(SETTLE_MS);
  assertAlive(s);
  const after = cpuTicks(s.child.pid);
  const r = tool.parse(out);
  const usPerTick = 1e6 / CLK_TCK;
  r.userUs = ((after.user - before.user) * usPerTick) / r.requests;
  r.sysUs = ((after.sys - before.sys) * usPerTick) / r.requests;
  r.rssKb = peakRssKb(s.child.pid);
  return r;
}

/**
 * One WebSocket echo run (warm-up + measured period, in one ws_load process). The
 * load generator reads the server's /proc/<pid>/stat itself at the exact start and
 * end of the measured period; the result has the shape of a hello run (rps = echoes/s).
 */
async function wsRun(cfg, s, size) {
  const argv = [
    NODE,
    WS_LOAD,
    `ws://127.0.0.1:${s.port}/ws`,
    `--conns=${cfg.wsConns}`,
    `--inflight=${cfg.wsInflight}`,
    `--size=${size}`,
    `--warmup=${toSeconds(cfg.wsWarmup)}`,
    `--duration=${toSeconds(cfg.wsDuration)}`,
    `--pid=${s.child.pid}`,
  ];
  assertAlive(s);
  let out;
  try {
    out = await runTool(argv);
  } catch (err) {
    await sleep(100); // let a dying server's exit be noticed: report that, not its symptom
    assertAlive(s);
    throw err;
  }
  assertAlive(s);
  const line = out.trim().split("\n").pop();
  let r;
  try {
    r = JSON.parse(line);
  } catch {
    throw new Error(`could not parse ws_load output:\n${out}`);
  }
  if (!r.messages) throw new Error(`no echo received:\n${out}`);
  const usPerTick = 1e6 / CLK_TCK;
  return {
    requests: r.messages,
    rps: r.rate,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    errors: r.errors,
    userUs: (r.userTicks * usPerTick) / r.messages,
    sysUs: (r.sysTicks * usPerTick) / r.messages,
    rssKb: peakRssKb(s.child.pid),
  };
}

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};

/** Median of every per-run figure; errors are summed and RSS is the peak. */
function summarize(runs) {
  const pick = (k) => median(runs.map((r) => r[k]));
  return {
    rps: pick("rps"),
    userUs: pick("userUs"),
    sysUs: pick("sysUs"),
    totalUs: median(runs.map((r) => r.userUs + r.sysUs)),
    p50Ms: pick("p50Ms"),
    p99Ms: pick("p99Ms"),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    rssKb: Math.max(...runs.map((r) => r.rssKb)),
  };
}

// ---------------------------------------------------------------------------------
// Report

const fmt = {
  int: (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "—"),
  us: (x) => (Number.isFinite(x) ? x.toFixed(2) : "—"),
  ms: (x) => (Number.isFinite(x) ? `${x.toFixed(2)} ms` : "—"),
  ratio: (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "—"),
  mib: (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MiB` : "—"),
};

/** Output of a command; a command that fails keeps whatever it printed (e.g. `wrk -v`). */
function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] }).toString().trim();
  } catch (err) {
    return String(err.stdout ?? "").trim() || "(unavailable)";
  }
}

function wsVersion() {
  try {
    const pkg = path.join(ROOT, "node_modules/ws/package.json");
    return JSON.parse(readFileSync(pkg, "utf8")).version;
  } catch {
    return "(not installed)";
  }
}

function machineInfo(cfg) {
  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
  const tool = TOOLS[cfg.tool];
  return {
    nproc: sh("nproc", []),
    cpu: cpu ? cpu[1] : "(unknown)",
    kernel: os.release(),
    debian: existsSync("/etc/debian_version")
      ? readFileSync("/etc/debian_version", "utf8").trim()
      : "(not Debian)",
    deno: existsSync(DENO) ? sh(DENO, ["--version"]).split("\n")[0] : "(not installed)",
    node: process.version,
    load: os.loadavg().map((x) => x.toFixed(2)).join(", "),
    // `wrk -v` prints the version then usage and exits non-zero: keep the first line.
    tool: sh(tool.bin, ["-v"]).split("\n")[0],
    ws: wsVersion(),
  };
}

function ratioVs(s, other) {
  return s?.summary && other?.summary ? s.summary.rps / other.summary.rps : NaN;
}

function findServer(servers, runtime, role) {
  return servers.find((x) => x.runtime === runtime && x.role === role);
}

/** Same-runtime counterpart: wasmgoose ↔ competitor. */
function counterpart(servers, s) {
  if (s.role === "wasmgoose") return findServer(servers, s.runtime, "competitor");
  if (s.role === "competitor") return findServer(servers, s.runtime, "wasmgoose");
  return null;
}

/** 64 → "64 B", 16384 → "16 KiB". */
const sizeLabel = (n) => (n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

function renderReport(cfg, hello, ws, info, startedAt) {
  const lines = [];
  const add = (...l) => lines.push(...l);
  add(
    "# wasmgoose benchmark results",
    "",
    `Generated by \`bench/run.mjs\` on ${startedAt.toISOString()}. Figures from different runs are not comparable; re-run \`make bench\`.`,
    "",
    "## Machine",
    "",
    `- CPUs: ${info.nproc} × ${info.cpu}`,
    `- Kernel: ${info.kernel}; Debian ${info.debian}`,
    `- Load average at start (1, 5, 15 min): ${info.load}`,
    `- Deno: ${info.deno}`,
    `- Node: ${info.node}`,
  );
  if (hello) add(`- Load generator: ${info.tool}`);
  if (ws) add(`- WebSocket load generator: \`bench/ws_load.mjs\` (ws ${info.ws} client on Node)`);
  if (hello) renderHello(cfg, hello, add);
  if (ws) renderWs(cfg, ws, add);
  const notes = [...(hello ?? []), ...(ws ?? [])].filter((s) => s.warning);
  if (notes.length) {
    add("", "## Warnings", "");
    for (const s of notes) add(`- ${s.label}: ${s.warning}`);
  }
  if (hello) {
    add(
      "",
      "## Runs",
      "",
      "Every measured run (req/s; total server CPU µs/req). Within a round the servers ran top to bottom.",
      "",
      `| Server | ${Array.from({ length: cfg.rounds }, (_, i) => `round ${i + 1}`).join(" | ")} |`,
      `|---|${"--:|".repeat(cfg.rounds)}`,
    );
    for (const s of hello.filter((x) => x.runs.length)) {
      const cells = Array.from({ length: cfg.rounds }, (_, i) => {
        const r = s.runs[i];
        return r ? `${fmt.int(r.rps)}; ${fmt.us(r.userUs + r.sysUs)}` : "—";
      });
      add(`| ${s.label} | ${cells.join(" | ")} |`);
    }
  }
  if (ws) {
    add(
      "",
      "## WebSocket echo runs",
      "",
      "Every measured run (messages/s; total server CPU µs/message). Within a round the sizes ran in table order, and for each size the servers ran top to bottom.",
      "",
      `| Server | size | ${
        Array.from({ length: cfg.rounds }, (_, i) => `round ${i + 1}`).join(" | ")
      } |`,
      `|---|--:|${"--:|".repeat(cfg.rounds)}`,
    );
    for (const size of cfg.wsSizes) {
      for (const s of ws.filter((x) => x.runs[size]?.length)) {
        const cells = Array.from({ length: cfg.rounds }, (_, i) => {
          const r = s.runs[size][i];
          return r ? `${fmt.int(r.rps)}; ${fmt.us(r.userUs + r.sysUs)}` : "—";
        });
        add(`| ${s.label} | ${sizeLabel(size)} | ${cells.join(" | ")} |`);
      }
    }
  }
  return lines.join("\n") + "\n";
}

function renderHello(cfg, servers, add) {
  const ref = findServer(servers, "deno", "wasmgoose");
  add(
    "",
    "## Method",
    "",
    `- Workload: \`GET /\` → \`${EXPECTED_BODY}\` (application/json), keep-alive, on 127.0.0.1.`,
    `- Load: \`${cfg.tool}\` with ${cfg.threads} thread(s), ${cfg.conns} connections; ${cfg.warmup} warm-up (discarded) then ${cfg.duration} measured, per server per round.`,
    `- ${cfg.rounds} interleaved round(s): every server is started once, then each round runs all servers in turn (A B C … A B C …). Each figure is the median over rounds; errors are summed over the measured runs.`,
    "- Server CPU: utime and stime of the server process (all threads) from `/proc/<pid>/stat`, read before and 250 ms after each measured run, divided by the requests completed (clock tick = " +
      `${1000 / CLK_TCK} ms).`,
    "- Errors: wrk socket errors (connect, read, write, timeout) + non-2xx/3xx responses.",
    "- Peak RSS: `VmHWM` from `/proc/<pid>/status` after the last run (the process lifetime peak).",
    '- "vs same runtime": a wasmgoose row divided by the competitor on its runtime (Deno.serve, node:http); a competitor row, the inverse.',
    "- wrk and the server share the machine's CPUs; wrk saturates near 130k req/s here, so CPU µs per request is what separates the fastest servers.",
    "",
    "## Hello JSON",
    "",
    "| Server | req/s | vs wasmgoose/Deno | vs same runtime | user µs/req | sys µs/req | total µs/req | p50 | p99 | errors | peak RSS |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const s of servers) {
    const m = s.summary;
    if (!m) {
      add(`| ${s.label} | ${s.status} | — | — | — | — | — | — | — | — | — |`);
      continue;
    }
    add(
      `| ${s.label} | ${fmt.int(m.rps)} | ${fmt.ratio(ratioVs(s, ref))} | ${
        fmt.ratio(ratioVs(s, counterpart(servers, s)))
      } | ${fmt.us(m.userUs)} | ${fmt.us(m.sysUs)} | ${fmt.us(m.totalUs)} | ${fmt.ms(m.p50Ms)} | ${
        fmt.ms(m.p99Ms)
      } | ${m.errors} | ${fmt.mib(m.rssKb)} |`,
    );
  }
  add("", "## Checks", "");
  const check = (label, runtime, target) => {
    const r = ratioVs(
      findServer(servers, runtime, "wasmgoose"),
      findServer(servers, runtime, "competitor"),
    );
    const verdict = !Number.isFinite(r) ? "not measured" : r >= target ? "PASS" : "FAIL";
    add(`- ${label}: ${fmt.ratio(r)} (target ≥ ${target}) — ${verdict}`);
  };
  check("wasmgoose/Deno vs Deno.serve", "deno", 0.85);
  check("wasmgoose/Node vs node:http", "node", 1.5);
}

function renderWs(cfg, servers, add) {
  const inflight = cfg.wsInflight === 1
    ? "1 message in flight (ping-pong: the next message is sent when the echo arrives)"
    : `${cfg.wsInflight} messages in flight (each echo is answered with the next message)`;
  add(
    "",
    "## WebSocket echo",
    "",
    "### Method",
    "",
    `- Workload: WebSocket on \`ws://127.0.0.1:PORT/ws\`, permessage-deflate off; the server echoes every message back as is. Binary messages of ${
      cfg.wsSizes.map(sizeLabel).join(" and ")
    }.`,
    `- Load: \`bench/ws_load.mjs\` (the \`ws\` package as client, a separate Node process), ${cfg.wsConns} connections, each with ${inflight}; ${cfg.wsWarmup} warm-up (discarded) then ${cfg.wsDuration} measured, per server per size per round, each run on fresh connections.`,
    `- ${cfg.rounds} interleaved round(s), as for hello; per round, for each size, every server in turn. Figures are medians over rounds; errors are summed.`,
    "- msg/s: echoes received during the measured period. Latency: round trip from send to echo of each message.",
    "- Server CPU: utime and stime of the server process (all threads), read by the load generator from `/proc/<pid>/stat` at the start and end of the measured period, divided by the echoes received.",
    "- Errors: connections that failed to open, or errored or closed while the load ran, plus echoes of the wrong size.",
    "- Peak RSS: `VmHWM` after the last run of the process (one process serves both sizes, so both tables show the same figure).",
    '- "vs same runtime": msg/s of a wasmgoose row divided by the competitor on its runtime (Deno.serve + upgradeWebSocket, ws on Node); a competitor row, the inverse.',
    "- The load generator (one Node thread, masking every client frame) shares the 2 CPUs with the server and can be the bottleneck: CPU µs per message is the figure that separates servers.",
  );
  for (const size of cfg.wsSizes) {
    add(
      "",
      `### ${sizeLabel(size)} messages`,
      "",
      "| Server | msg/s | vs same runtime | user µs/msg | sys µs/msg | total µs/msg | p50 | p99 | errors | peak RSS |",
      "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    );
    for (const s of servers) {
      const m = s.summaries[size];
      if (!m) {
        add(`| ${s.label} | ${s.status || "incomplete"} | — | — | — | — | — | — | — | — |`);
        continue;
      }
      const other = counterpart(servers, s)?.summaries?.[size];
      add(
        `| ${s.label} | ${fmt.int(m.rps)} | ${fmt.ratio(other ? m.rps / other.rps : NaN)} | ${
          fmt.us(m.userUs)
        } | ${fmt.us(m.sysUs)} | ${fmt.us(m.totalUs)} | ${fmt.ms(m.p50Ms)} | ${
          fmt.ms(m.p99Ms)
        } | ${m.errors} | ${fmt.mib(m.rssKb)} |`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------
// Main

/** The servers of one workload: ports assigned, missing entries marked skipped. */
function prepare(cfg, list, portOffset, probe, ready) {
  const servers = list.map((s, i) => {
    const port = cfg.portBase + portOffset + i;
    return {
      ...s,
      port,
      url: `http://127.0.0.1:${port}/`,
      probe,
      ready,
      runs: [],
      status: "",
      warning: "",
      summary: null,
    };
  }).filter((s) => !cfg.only || cfg.only.includes(s.name));
  for (const s of servers) {
    const runtimeBin = s.cmd(s.port)[0];
    const missing = [s.entry, ...(s.needs ?? [])].find((f) => !existsSync(path.join(ROOT, f)));
    if (missing) s.status = `skipped: ${missing} not found`;
    else if (!existsSync(runtimeBin)) s.status = `skipped: ${runtimeBin} not found`;
  }
  return servers;
}

/** Start every available server of a workload once. */
async function startAll(servers) {
  for (const s of servers) {
    if (s.status) {
      console.log(`  ${s.name.padEnd(15)} ${s.status}`);
      continue;
    }
    try {
      s.warning = await startServer(s);
      console.log(
        `  ${s.name.padEnd(15)} pid ${s.child.pid} on :${s.port}${
          s.warning ? `  WARNING: ${s.warning}` : ""
        }`,
      );
    } catch (err) {
      if (aborting) return;
      s.status = `failed to start: ${err.message.split("\n")[0]}`;
      s.child?.kill("SIGKILL");
      console.error(`  ${s.name.padEnd(15)} FAILED TO START: ${err.message}`);
    }
  }
}

/** Stop the servers of a workload (before the next workload starts its own). */
async function stopAll(servers) {
  const live = servers.filter((s) => s.child && s.child.exitCode === null && !s.child.signalCode);
  for (const s of live) s.child.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const s of live) if (s.child.exitCode === null) s.child.kill("SIGKILL");
  }, 2000);
  await Promise.all(live.map((s) => s.child.exited));
  clearTimeout(timer);
}

/** Mark a server failed after a run error, show its output and stop it. */
function runFailed(s, prefix, where, err) {
  s.status = `failed in ${where}: ${err.message.split("\n")[0]}`;
  console.error(
    `  ${prefix}  ${s.name.padEnd(15)} FAILED: ${err.message}\n--- ${s.name} output ---\n${
      s.child.output.trim() || "(none)"
    }\n---`,
  );
  s.child.kill("SIGKILL");
}

async function helloRounds(cfg, servers) {
  const active = () => servers.filter((s) => !s.status);
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const s of active()) {
      try {
        await loadRun(cfg, s, cfg.warmup, false);
        const r = await loadRun(cfg, s, cfg.duration, true);
        s.runs.push(r);
        console.log(
          `  round ${round}/${cfg.rounds}  ${s.name.padEnd(15)} ${
            fmt.int(r.rps).padStart(9)
          } req/s  cpu ${fmt.us(r.userUs + r.sysUs)} µs/req (user ${fmt.us(r.userUs)}, sys ${
            fmt.us(r.sysUs)
          })  p99 ${fmt.ms(r.p99Ms)}  errors ${r.errors}`,
        );
      } catch (err) {
        if (aborting) return;
        runFailed(s, `round ${round}/${cfg.rounds}`, `round ${round}`, err);
      }
    }
  }
  for (const s of servers) if (s.runs.length === cfg.rounds) s.summary = summarize(s.runs);
}

async function wsRounds(cfg, servers) {
  const active = () => servers.filter((s) => !s.status);
  for (const s of servers) {
    s.runs = Object.fromEntries(cfg.wsSizes.map((n) => [n, []]));
    s.summaries = {};
  }
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const size of cfg.wsSizes) {
      for (const s of active()) {
        try {
          const r = await wsRun(cfg, s, size);
          s.runs[size].push(r);
          console.log(
            `  round ${round}/${cfg.rounds}  ${s.name.padEnd(15)} ${sizeLabel(size).padStart(7)} ${
              fmt.int(r.rps).padStart(8)
            } msg/s  cpu ${fmt.us(r.userUs + r.sysUs)} µs/msg (user ${fmt.us(r.userUs)}, sys ${
              fmt.us(r.sysUs)
            })  p99 ${fmt.ms(r.p99Ms)}  errors ${r.errors}`,
          );
        } catch (err) {
          if (aborting) return;
          const where = `round ${round}, ${sizeLabel(size)}`;
          runFailed(s, `round ${round}/${cfg.rounds}`, where, err);
        }
      }
    }
  }
  for (const s of servers) {
    for (const size of cfg.wsSizes) {
      if (s.runs[size].length === cfg.rounds) s.summaries[size] = summarize(s.runs[size]);
    }
  }
}

async function main() {
  const cfg = readConfig(process.argv.slice(2), process.env);
  const doHello = cfg.workloads.includes("hello");
  const doWs = cfg.workloads.includes("ws");
  const tool = TOOLS[cfg.tool];
  if (!tool) {
    throw new Error(
      `TOOL=${cfg.tool} is not supported (available: ${Object.keys(TOOLS).join(", ")})`,
    );
  }
  if (doHello && sh("which", [tool.bin]) === "(unavailable)") {
    throw new Error(`${tool.bin} not found on PATH`);
  }
  if (cfg.only) {
    const known = [...new Set([...SERVERS, ...WS_SERVERS].map((s) => s.name))];
    const unknown = cfg.only.filter((n) => !known.includes(n));
    if (unknown.length) {
      throw new Error(
        `unknown server(s) in ONLY: ${unknown.join(", ")} (known: ${known.join(", ")})`,
      );
    }
  }
  const startedAt = new Date();
  const info = machineInfo(cfg);

  const hello = doHello ? prepare(cfg, SERVERS, 0, httpProbe, "200 on GET /") : null;
  const ws = doWs
    ? prepare(cfg, WS_SERVERS, SERVERS.length, wsProbe, "WebSocket echo on /ws")
    : null;
  const countActive = (list) => (list ?? []).filter((s) => !s.status).length;
  const helloRun = toSeconds(cfg.warmup) + toSeconds(cfg.duration) + SETTLE_MS / 1000;
  const wsRunSec = toSeconds(cfg.wsWarmup) + toSeconds(cfg.wsDuration) + 0.6; // + start, connect, close
  const estimate = cfg.rounds *
    (countActive(hello) * helloRun + countActive(ws) * cfg.wsSizes.length * wsRunSec);
  console.log(`estimated time: ~${Math.ceil(estimate)} s plus server start-up`);

  if (hello) {
    console.log(
      `hello: ${cfg.tool} -t${cfg.threads} -c${cfg.conns}, warm-up ${cfg.warmup}, measure ${cfg.duration}, ${cfg.rounds} round(s)`,
    );
    await startAll(hello);
    if (aborting) return;
    await helloRounds(cfg, hello);
    if (aborting) return;
    await stopAll(hello);
  }
  if (ws) {
    console.log(
      `ws echo: ${cfg.wsConns} connections × ${cfg.wsInflight} in flight, sizes ${
        cfg.wsSizes.map(sizeLabel).join(", ")
      }, warm-up ${cfg.wsWarmup}, measure ${cfg.wsDuration}, ${cfg.rounds} round(s)`,
    );
    await startAll(ws);
    if (aborting) return;
    await wsRounds(cfg, ws);
    if (aborting) return;
    await stopAll(ws);
  }

  if (aborting) return;
  writeFileSync(cfg.out, renderReport(cfg, hello, ws, info, startedAt));
  console.log(`\nwrote ${cfg.out} (${Math.round((Date.now() - startedAt) / 1000)} s)`);
  const failed = [...(hello ?? []), ...(ws ?? [])].filter((s) => s.status.startsWith("failed"));
  if (failed.length) {
    console.error(`bench: ${failed.map((s) => s.name).join(", ")} failed`);
    process.exitCode = 1;
  }
}

// Clean up our own children on every exit path.
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    aborting = true;
    console.error(`\nbench: ${sig}, stopping servers (no report written)`);
    killAll().finally(() => process.exit(130));
  });
}
main()
  .catch((err) => {
    if (!aborting) {
      console.error(`bench: ${err.message}`);
      process.exitCode = 1;
    }
  })
  .finally(killAll);
