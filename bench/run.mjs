#!/usr/bin/env node
// wasmgoose benchmark orchestrator (`make bench`, `make bench-full`). Plain Node ESM.
//
// Every selected server (bench/servers.mjs) is started once on its own 127.0.0.1
// port. Then:
//  1. footprint: time from start to the first response, RSS at rest, RSS with
//     IDLE_CONNS idle keep-alive connections (bench/idle_load.mjs);
//  2. correctness: every server is asked every workload once and its answer is
//     compared with bench/workloads.mjs `expected(name)` (static files: the bytes);
//     a wrong answer makes an error row and the server is never timed on it; a 404
//     means "not implemented" (listed under the table);
//  3. per workload, interleaved rounds (A B C … C B A …: even rounds in reverse, so
//     that a drift of the machine weighs on both ends alike): a warm-up run (discarded)
//     and a measured run per server, with wrk (default) or bombardier, sampling the
//     CPU time of the server's process tree from /proc around the measured period
//     and its RSS during it. WebSocket echo runs bench/ws_load.mjs instead.
// Writes bench/RESULTS.md (medians; ratios against wasmgoose on Deno; the seeds'
// Apple Silicon figures as reference rows) and SVG bar charts in bench/charts/.
//
// Options (KEY=VALUE arguments override the environment), see bench/README.md:
//   WORKLOADS=quick|full|list  ONLY=servers  SKIP=servers  ROUNDS=3  DURATION=5s
//   WARMUP=2s  CONNS=100  THREADS=1  TOOL=wrk|bombardier  IDLE_CONNS=10000
//   WS_DURATION=3s WS_WARMUP=1s WS_CONNS=50 WS_INFLIGHT=1  PORT_BASE=18101
//   OUT=bench/RESULTS.md  CHARTS=bench/charts  CHECK_ONLY=1

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { isDeepStrictEqual } from "node:util";
import { expected, WORKLOADS as API } from "./workloads.mjs";
import { nginxConfig, SERVERS } from "./servers.mjs";
import { renderCharts, renderReport } from "./report.mjs";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const TMP = path.join(ROOT, "build/bench");
const STATIC_DIR = path.join(TMP, "www");
const CTX = {
  ROOT,
  DENO: path.join(ROOT, "node_modules/@deno/linux-x64-glibc/deno"),
  NODE: process.execPath,
  BUN: path.join(ROOT, "node_modules/@oven/bun-linux-x64/bin/bun"),
  PY: path.join(ROOT, "build/venv/bin/python"),
  STATIC_DIR,
  nginxConf: (port) => path.join(TMP, `nginx-${port}`, "nginx.conf"),
};
const START_TIMEOUT_MS = 30_000;
const SETTLE_MS = 250;
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const PAGE_KB = Number(execFileSync("getconf", ["PAGESIZE"]).toString().trim()) / 1024 || 4;
const HELLO_BODY = '{"message":"Hello, World!"}';

// ---------------------------------------------------------------------------------
// Workloads

const STATIC_FILES = { "static-1k": 1024, "static-100k": 100 * 1024, "static-1m": 1024 * 1024 };

/** name → { name, label, group, kind: "http" | "ws" | "idle", method, path, … } */
const WORKLOADS = (() => {
  const w = {
    hello: { group: "hello", kind: "http", method: "GET", path: "/", label: "Hello JSON" },
  };
  for (const [name, d] of Object.entries(API)) {
    w[name] = { ...d, kind: "http", label: d.label ?? titleOf(name) };
  }
  for (const [name, size] of Object.entries(STATIC_FILES)) {
    w[name] = {
      group: "static",
      kind: "http",
      method: "GET",
      path: `/static/${name.slice(7)}.bin`,
      size,
      label: `Static file ${sizeLabel(size)}`,
    };
  }
  w.ws = { group: "ws", kind: "ws", label: "WebSocket echo" };
  for (const k in w) w[k].name = k;
  return w;
})();

function titleOf(name) {
  const [g, v] = name.split("-");
  const G = {
    json: "JSON",
    path: "Path",
    query: "Query",
    form: "URL-encoded form",
    multipart: "Multipart",
  };
  return `${G[g] ?? g} ${v}`;
}

const PRESETS = {
  // make bench: about 5 minutes on 2 cores (9 servers; 3 rounds of 2 s)
  quick: ["hello", "json-small", "ws"],
  full: Object.keys(WORKLOADS),
  // make bench-api: hello and the fourteen API workloads of the seeds' benchmark
  api: ["hello", ...Object.keys(API).filter((w) => API[w].group !== "multipart")],
};
// The servers of the quick preset (unless ONLY is given): wasmgoose on each runtime,
// the native baselines, cymongoose and each runtime's idiomatic server.
const QUICK_SERVERS = [
  "wasmgoose-deno",
  "wasmgoose-node",
  "wasmgoose-bun",
  "native-addon-node",
  "native-c",
  "cymongoose",
  "deno-serve",
  "node-http",
  "bun-serve",
];
// The servers of the api preset (unless ONLY is given): issue 6's comparisons, the
// built-in routers and serve() on Deno and Node against Hono, Fastify and the
// runtimes' own servers.
const API_SERVERS = [
  "wasmgoose-router",
  "wasmgoose-router-node",
  "wasmgoose-serve",
  "wasmgoose-serve-node",
  "deno-serve",
  "node-http",
  "hono-deno",
  "fastify-node",
];

// ---------------------------------------------------------------------------------
// Configuration

function readConfig(argv, env) {
  const opts = { ...env };
  for (const arg of argv) {
    const m = /^(?:--)?([A-Za-z_]+)=(.*)$/.exec(arg);
    if (!m) throw new Error(`bad argument "${arg}" (expected KEY=VALUE, e.g. ROUNDS=5)`);
    opts[m[1].toUpperCase()] = m[2];
  }
  const int = (key, def, min = 1) => {
    const v = opts[key] === undefined || opts[key] === "" ? def : Number(opts[key]);
    if (!Number.isInteger(v) || v < min) throw new Error(`${key} must be an integer ≥ ${min}`);
    return v;
  };
  const list = (
    key,
  ) => (opts[key] ? opts[key].split(",").map((x) => x.trim()).filter(Boolean) : null);
  const quick = (opts.WORKLOADS || "quick") === "quick";
  const apiPreset = opts.WORKLOADS === "api";
  let workloads = [];
  for (const w of list("WORKLOADS") ?? ["quick"]) {
    if (PRESETS[w]) workloads.push(...PRESETS[w]);
    else if (WORKLOADS[w]) workloads.push(w);
    else if (Object.values(WORKLOADS).some((x) => x.group === w)) {
      workloads.push(...Object.values(WORKLOADS).filter((x) => x.group === w).map((x) => x.name));
    } else {
      throw new Error(
        `unknown workload "${w}" (known: quick, full, api, ${
          Object.keys(WORKLOADS).join(", ")
        } or a group)`,
      );
    }
  }
  workloads = [...new Set(workloads)];
  const names = SERVERS.map((s) => s.name);
  for (const k of ["ONLY", "SKIP"]) {
    const bad = (list(k) ?? []).filter((n) => !names.includes(n));
    if (bad.length) {
      throw new Error(`unknown server(s) in ${k}: ${bad.join(", ")} (known: ${names.join(", ")})`);
    }
  }
  const cfg = {
    workloads,
    preset: (list("WORKLOADS") ?? ["quick"]).join(","),
    rounds: int("ROUNDS", 3),
    duration: opts.DURATION || (quick ? "2s" : "3s"),
    warmup: opts.WARMUP || "1s",
    // quick: warm up in the first round only (later rounds find the server warm)
    warmupRounds: (opts.WARMUP_ROUNDS || (quick ? "first" : "all")) === "first" ? 1 : Infinity,
    conns: int("CONNS", 100),
    threads: int("THREADS", 1),
    portBase: int("PORT_BASE", 18101),
    only: list("ONLY") ?? (quick ? QUICK_SERVERS : apiPreset ? API_SERVERS : null),
    skip: list("SKIP") ?? [],
    out: path.resolve(opts.OUT || path.join(BENCH_DIR, "RESULTS.md")),
    charts: path.resolve(opts.CHARTS || path.join(BENCH_DIR, "charts")),
    tool: opts.TOOL || "wrk",
    idleConns: int("IDLE_CONNS", 10000, 0),
    wsDuration: opts.WS_DURATION || (quick ? "2s" : "3s"),
    wsWarmup: opts.WS_WARMUP || (quick ? "500ms" : "1s"),
    wsConns: int("WS_CONNS", 50),
    wsInflight: int("WS_INFLIGHT", 1),
    wsSizes: (list("WS_SIZES") ?? (quick ? ["64"] : ["64", "16384"])).map(Number),
    checkOnly: opts.CHECK_ONLY === "1",
  };
  if (cfg.tool === "wrk") {
    for (const k of ["duration", "warmup"]) {
      const v = toSeconds(cfg[k]);
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`wrk takes whole seconds: ${k.toUpperCase()}=${cfg[k]}`);
      }
    }
  }
  return cfg;
}
/** "5s", "500ms", "1m" or a bare number of seconds → seconds. */
function toSeconds(t) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(t).trim());
  if (!m) throw new Error(`bad duration "${t}"`);
  return Number(m[1]) * { ms: 1e-3, s: 1, m: 60, h: 3600 }[m[2] || "s"];
}

/** 64 → "64 B", 16384 → "16 KiB", 1048576 → "1 MiB". */
export function sizeLabel(n) {
  if (n % (1 << 20) === 0) return `${n >> 20} MiB`;
  return n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;
}

// ---------------------------------------------------------------------------------
// Load generators: { bin, args(o), parse(out) → { requests, rps, p50Ms, p99Ms, errors } }

const TOOLS = {
  wrk: {
    bin: "wrk",
    args: ({ url, duration, conns, threads, script }) => [
      "-t",
      String(threads),
      "-c",
      String(conns),
      "-d",
      duration,
      "--latency",
      ...(script ? ["-s", script] : []),
      url,
    ],
    parse: parseWrk,
  },
  bombardier: {
    bin: existsSync(path.join(ROOT, "build/bin/bombardier"))
      ? path.join(ROOT, "build/bin/bombardier")
      : "bombardier",
    args: ({ url, duration, conns, w }) => [
      "-c",
      String(conns),
      "-d",
      duration,
      "-l",
      "-p",
      "r",
      "-o",
      "json",
      ...(w.method !== "GET"
        ? ["-m", w.method, "-f", w.bodyFile, "-H", `Content-Type: ${w.contentType}`]
        : []),
      url,
    ],
    parse: parseBombardier,
  },
};

function wrkTimeMs(s) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  return m ? Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[m[2]] : NaN;
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
  if (/ 0 requests in /.test(out)) {
    throw new Error(
      "no request completed during the run (the server is too slow for wrk's 2 s timeout, or stalled)",
    );
  }
  if (!requests || !rps) throw new Error(`could not parse wrk output:\n${out}`);
  return { requests, rps, p50Ms: pct(50), p99Ms: pct(99), errors: socketErrors + non2xx };
}

function parseBombardier(out) {
  let j;
  try {
    j = JSON.parse(out.slice(out.indexOf("{")));
  } catch {
    throw new Error(`could not parse bombardier output:\n${out.slice(0, 2000)}`);
  }
  const r = j.result ?? {};
  const ok = (r.req2xx ?? 0) + (r.req3xx ?? 0);
  const bad = (r.req1xx ?? 0) + (r.req4xx ?? 0) + (r.req5xx ?? 0) + (r.others ?? 0);
  const secs = r.timeTakenSeconds || 1;
  const pc = r.latency?.percentiles ?? {};
  if (!ok) throw new Error(`bombardier: no successful request:\n${out.slice(0, 2000)}`);
  return {
    requests: ok,
    rps: ok / secs,
    p50Ms: (pc["50"] ?? NaN) / 1000,
    p99Ms: (pc["99"] ?? NaN) / 1000,
    errors: bad,
  };
}

// ---------------------------------------------------------------------------------
// Child processes: everything spawned is tracked, exit paths kill exactly those.

const children = new Set();
let aborting = false;

function spawnTracked(argv, { keep = 16384, env = {} } = {}) {
  const child = spawn(argv[0], argv.slice(1), {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", STATIC_DIR, ...env },
  });
  child.output = "";
  const collect = (chunk) => {
    child.output = (child.output + chunk).slice(-keep);
  };
  child.stdout.setEncoding("utf8").on("data", collect);
  child.stderr.setEncoding("utf8").on("data", collect);
  child.stdin.on("error", () => {});
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

async function runTool(argv) {
  const child = spawnTracked(argv, { keep: 1 << 20 });
  child.stdin.end();
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
// /proc sampling of a process tree (nginx has a master and a worker)

function readStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // state is field 3 (index 0 here): ppid 4 → 1, utime 14 → 11, stime 15 → 12, rss 24 → 21
    return { ppid: Number(f[1]), user: Number(f[11]), sys: Number(f[12]), rssPages: Number(f[21]) };
  } catch {
    return null;
  }
}

/** The PIDs of `pid` and all its descendants. */
function treePids(pid) {
  const kids = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(d);
    if (!st) continue;
    if (!kids.has(st.ppid)) kids.set(st.ppid, []);
    kids.get(st.ppid).push(Number(d));
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(kids.get(out[i]) ?? []));
  return out;
}

function treeCpu(pids) {
  let user = 0, sys = 0;
  for (const p of pids) {
    const st = readStat(p);
    if (st) {
      user += st.user;
      sys += st.sys;
    }
  }
  return { user, sys };
}

function treeRssKb(pids) {
  let kb = 0;
  for (const p of pids) {
    const st = readStat(p);
    if (st) kb += st.rssPages * PAGE_KB;
  }
  return kb;
}

/** Sample the RSS of a tree every 100 ms until stopped; returns the peak in kB. */
function rssSampler(pids) {
  let peak = treeRssKb(pids);
  const t = setInterval(() => {
    peak = Math.max(peak, treeRssKb(pids));
  }, 100);
  return () => {
    clearInterval(t);
    return Math.max(peak, treeRssKb(pids));
  };
}

// ---------------------------------------------------------------------------------
// Servers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer().once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

function prepareServers(cfg) {
  const list = SERVERS.filter((s) =>
    (!cfg.only || cfg.only.includes(s.name)) && !cfg.skip.includes(s.name)
  );
  const wanted = new Set(cfg.workloads);
  const servers = [];
  list.forEach((def, i) => {
    const s = {
      ...def,
      port: cfg.portBase + SERVERS.indexOf(def),
      status: "",
      notes: [],
      results: {},
      checks: {},
    };
    s.url = `http://127.0.0.1:${s.port}`;
    s.takes = (w) => !s.only || s.only.includes(w);
    if (![...wanted].some((w) => s.takes(w)) && !(wanted.size && s.takes("idle"))) return;
    const argv = s.cmd(s.port, CTX);
    const missing = (s.needs ?? []).find((f) => !existsSync(path.join(ROOT, f)));
    if (missing) s.status = `skipped: ${missing} not found`;
    else if (argv[0].includes("/") && !existsSync(argv[0])) {
      s.status = `skipped: ${path.relative(ROOT, argv[0])} not found`;
    }
    servers.push(s);
    void i;
  });
  return servers;
}

async function httpGet(url, timeoutMs = 2000) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, body };
}

/** Start a server; returns when GET / answers 200 (time to first response measured). */
async function startServer(s) {
  if (!(await portIsFree(s.port))) throw new Error(`port ${s.port} is already in use`);
  if (s.name === "nginx") {
    const dir = path.dirname(CTX.nginxConf(s.port));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      CTX.nginxConf(s.port),
      nginxConfig(s.port, STATIC_DIR, dir, process.getuid?.() === 0),
    );
  }
  // Through a shell only to raise the descriptor limit; `exec` keeps the PID.
  const argv = s.cmd(s.port, CTX);
  const t0 = performance.now();
  s.child = spawnTracked([
    "/bin/sh",
    "-c",
    'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
    "sh",
    ...argv,
  ], {
    env: { PORT: String(s.port), ...s.env },
  });
  let exit;
  s.child.exited.then((st) => (exit = st));
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline && exit === undefined) {
    try {
      const r = await httpGet(`${s.url}/`, 1000);
      if (r.status === 200 || s.only?.includes("ws")) {
        s.startupMs = performance.now() - t0;
        s.pid = s.child.pid;
        await sleep(300); // let the runtime settle before the resting RSS is read
        s.pids = treePids(s.pid);
        s.restRssKb = treeRssKb(s.pids);
        return;
      }
      last = `GET / answered ${r.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await sleep(5);
  }
  const why = exit !== undefined
    ? `exited (${exit}) before answering`
    : `no answer within ${START_TIMEOUT_MS / 1000}s (last: ${last})`;
  throw new Error(`${why}\n--- ${s.name} output ---\n${s.child.output.trim() || "(none)"}\n---`);
}

function alive(s) {
  return s.child && s.child.exitCode === null && s.child.signalCode === null;
}

// ---------------------------------------------------------------------------------
// Correctness

/** Ask one server one workload once: "ok", "n/a" (404) or an error message. */
async function check(s, w) {
  if (w.kind === "ws") return wsProbe(s);
  const headers = w.contentType ? { "content-type": w.contentType } : undefined;
  let res;
  try {
    res = await fetch(`${s.url}${w.path}`, {
      method: w.method,
      headers,
      body: w.body,
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    return `request failed: ${e.cause?.code ?? e.message}`;
  }
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status === 404 || res.status === 405) return "n/a";
  if (res.status !== 200) return `status ${res.status}: ${text(body).slice(0, 80)}`;
  if (w.group === "static") {
    const want = readFileSync(path.join(STATIC_DIR, w.path));
    return Buffer.from(body).equals(want)
      ? "ok"
      : `wrong file content (${body.length} bytes, want ${want.length})`;
  }
  let got;
  try {
    got = JSON.parse(text(body));
  } catch {
    return `not JSON: ${JSON.stringify(text(body).slice(0, 80))}`;
  }
  const want = w.name === "hello" ? JSON.parse(HELLO_BODY) : expected(w.name);
  return isDeepStrictEqual(got, want)
    ? "ok"
    : `wrong answer ${JSON.stringify(got).slice(0, 120)} (want ${
      JSON.stringify(want).slice(0, 120)
    })`;
}

const text = (u8) => new TextDecoder().decode(u8);

/** WebSocket: handshake on /ws answers 101 and one masked frame comes back. */
function wsProbe(s) {
  return new Promise((resolve) => {
    const sock = net.connect(s.port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const done = (r) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(2000, () => done("WebSocket probe timed out"));
    sock.on("error", (err) => done(err.code ?? err.message));
    sock.on("close", () => done("connection closed during the WebSocket probe"));
    sock.on("connect", () =>
      sock.write(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ));
    const ping = Buffer.from("ping");
    const mask = Buffer.from([1, 2, 3, 4]);
    sock.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = buf.subarray(0, buf.indexOf("\r\n")).toString("latin1");
        if (/^HTTP\/1\.1 (404|400|426) /.test(status)) return done("n/a");
        if (!/^HTTP\/1\.1 101 /.test(status)) return done(`GET /ws answered "${status}"`);
        upgraded = true;
        buf = buf.subarray(end + 4);
        sock.write(
          Buffer.concat([
            Buffer.from([0x82, 0x80 | ping.length]),
            mask,
            ping.map((b, i) => b ^ mask[i & 3]),
          ]),
        );
      }
      if (buf.length < 2 + ping.length) return;
      done(
        buf[0] === 0x82 && buf[1] === ping.length && buf.subarray(2, 6).equals(ping)
          ? "ok"
          : `bad echo frame ${buf.subarray(0, 16).toString("hex")}`,
      );
    });
  });
}

// ---------------------------------------------------------------------------------
// Measurement

function prepareFiles(cfg) {
  mkdirSync(path.join(STATIC_DIR, "static"), { recursive: true });
  for (const w of Object.values(WORKLOADS)) {
    if (w.group === "static") {
      const f = path.join(STATIC_DIR, w.path);
      if (!existsSync(f) || statSync(f).size !== w.size) {
        const b = Buffer.alloc(w.size);
        for (let i = 0; i < b.length; i++) b[i] = (i * 31 + 7) & 0xff;
        writeFileSync(f, b);
      }
    }
    if (w.kind === "http" && w.body !== undefined) {
      w.bodyFile = path.join(TMP, `${w.name}.body`);
      writeFileSync(w.bodyFile, w.body);
      if (cfg.tool === "wrk") {
        w.script = path.join(TMP, `${w.name}.lua`);
        writeFileSync(
          w.script,
          `-- generated by bench/run.mjs\nlocal f = assert(io.open(${
            JSON.stringify(w.bodyFile)
          }, "rb"))\n` +
            `wrk.method = ${JSON.stringify(w.method)}\nwrk.body = f:read("*a")\nf:close()\n` +
            `wrk.headers["Content-Type"] = ${JSON.stringify(w.contentType)}\n`,
        );
      }
    }
  }
}

async function httpRun(cfg, s, w, duration, measure) {
  const tool = TOOLS[cfg.tool];
  const argv = [
    tool.bin,
    ...tool.args({
      url: `${s.url}${w.path}`,
      duration,
      conns: cfg.conns,
      threads: cfg.threads,
      script: w.script,
      w,
    }),
  ];
  if (!alive(s)) throw new Error("server exited");
  const pids = measure ? treePids(s.pid) : null;
  const before = measure ? treeCpu(pids) : null;
  const stopRss = measure ? rssSampler(pids) : null;
  const out = await runTool(argv);
  if (!measure) return null;
  await sleep(SETTLE_MS);
  const rssKb = stopRss();
  if (!alive(s)) throw new Error("server exited");
  const after = treeCpu(pids);
  const r = tool.parse(out);
  const usPerTick = 1e6 / CLK_TCK;
  r.userUs = ((after.user - before.user) * usPerTick) / r.requests;
  r.sysUs = ((after.sys - before.sys) * usPerTick) / r.requests;
  r.rssKb = rssKb;
  return r;
}

async function wsRun(cfg, s, size) {
  const argv = [
    CTX.NODE,
    path.join(BENCH_DIR, "ws_load.mjs"),
    `ws://127.0.0.1:${s.port}/ws`,
    `--conns=${cfg.wsConns}`,
    `--inflight=${cfg.wsInflight}`,
    `--size=${size}`,
    `--warmup=${toSeconds(cfg.wsWarmup)}`,
    `--duration=${toSeconds(cfg.wsDuration)}`,
    `--pid=${s.pid}`,
  ];
  if (!alive(s)) throw new Error("server exited");
  const stopRss = rssSampler(s.pids);
  let out;
  try {
    out = await runTool(argv);
  } catch (err) {
    await sleep(100);
    if (!alive(s)) throw new Error("server exited");
    throw err;
  } finally {
    s.lastRss = stopRss();
  }
  const r = JSON.parse(out.trim().split("\n").pop());
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
    rssKb: s.lastRss,
  };
}

/** RSS of a server with cfg.idleConns idle keep-alive connections. */
async function idleRun(cfg, s) {
  const client = spawnTracked([
    "/bin/sh",
    "-c",
    'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
    "sh",
    CTX.NODE,
    path.join(BENCH_DIR, "idle_load.mjs"),
    String(s.port),
    `--conns=${cfg.idleConns}`,
  ]);
  const deadline = Date.now() + 120_000;
  let line = null;
  while (Date.now() < deadline && client.exitCode === null) {
    const m = /^\{.*\}$/m.exec(client.output);
    if (m) {
      line = JSON.parse(m[0]);
      break;
    }
    await sleep(100);
  }
  try {
    if (!line) throw new Error(`idle client failed: ${client.output.slice(-500)}`);
    await sleep(1000);
    if (!alive(s)) throw new Error("server exited");
    const pids = treePids(s.pid);
    return { ...line, rssKb: treeRssKb(pids) };
  } finally {
    client.kill("SIGTERM");
    await client.exited;
    await sleep(500); // the server closes 10k connections
  }
}

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};

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
// Progress display

const fmt = {
  int: (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "—"),
  us: (x) => (Number.isFinite(x) ? x.toFixed(2) : "—"),
  ms: (x) => (Number.isFinite(x) ? `${x.toFixed(2)} ms` : "—"),
};

const progress = {
  total: 0,
  done: 0,
  t0: 0,
  secsDone: 0,
  secsTotal: 0,
  tty: process.stdout.isTTY,
  start(label, secs) {
    this.cur = secs;
    if (this.tty) process.stdout.write(`\r\x1b[K${this.prefix()} ${label} …`);
  },
  end(line) {
    this.done++;
    this.secsDone += this.cur;
    if (this.tty) process.stdout.write("\r\x1b[K");
    console.log(`${this.prefix()} ${line}`);
  },
  prefix() {
    const left = Math.max(0, this.secsTotal - this.secsDone);
    const pct = this.secsTotal ? Math.floor((100 * this.secsDone) / this.secsTotal) : 100;
    return `[${String(this.done).padStart(3)}/${this.total} ${String(pct).padStart(3)}% ~${
      Math.ceil(left / 60)
    } min left]`;
  },
};

// ---------------------------------------------------------------------------------
// Main

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 })
      .toString().trim();
  } catch (err) {
    return String(err.stdout ?? "").trim() || String(err.stderr ?? "").trim() || "(unavailable)";
  }
}

function machineInfo(cfg) {
  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
  const osr = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const wasm = path.join(ROOT, "wasm/mongoose.wasm");
  const wasmBytes = existsSync(wasm) ? readFileSync(wasm) : null;
  const addon = path.join(ROOT, "native/addon/build/Release/wasmgoose_native.node");
  return {
    nproc: sh("nproc", []),
    cpu: cpu ? cpu[1] : "(unknown)",
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    kernel: os.release(),
    os: /^PRETTY_NAME="?([^"\n]*)/m.exec(osr)?.[1] ?? "(unknown)",
    load: os.loadavg().map((x) => x.toFixed(2)).join(", "),
    versions: {
      Deno: existsSync(CTX.DENO) ? sh(CTX.DENO, ["--version"]).split("\n")[0] : "(not installed)",
      Node: process.version,
      Bun: existsSync(CTX.BUN) ? sh(CTX.BUN, ["--version"]) : "(not installed)",
      Python: existsSync(CTX.PY) ? sh(CTX.PY, ["--version"]) : "(no build/venv)",
      "Python packages": existsSync(CTX.PY)
        ? sh(CTX.PY, [
          "-c",
          "import importlib.metadata as m\nprint(', '.join(f'{p} {m.version(p)}' for p in ['cymongoose','aiohttp','fastapi','uvicorn','flask','werkzeug']))",
        ])
        : "(no build/venv)",
      nginx: sh("/bin/sh", ["-c", "/usr/sbin/nginx -v 2>&1"]),
      [cfg.tool]: cfg.tool === "wrk"
        ? sh("wrk", ["-v"]).split("\n")[0]
        : sh(TOOLS.bombardier.bin, ["--version"]).split("\n")[0],
      gcc: sh("gcc", ["--version"]).split("\n")[0],
    },
    wasmSize: wasmBytes ? wasmBytes.length : NaN,
    wasmGzip: wasmBytes ? gzipSync(wasmBytes, { level: 9 }).length : NaN,
    addonSize: existsSync(addon) ? statSync(addon).size : NaN,
    nativeSize: existsSync(path.join(ROOT, "bench/native/hello"))
      ? statSync(path.join(ROOT, "bench/native/hello")).size
      : NaN,
  };
}

async function main() {
  const cfg = readConfig(process.argv.slice(2), process.env);
  const tool = TOOLS[cfg.tool];
  if (!tool) {
    throw new Error(
      `TOOL=${cfg.tool} is not supported (available: ${Object.keys(TOOLS).join(", ")})`,
    );
  }
  const httpWanted = cfg.workloads.some((w) => WORKLOADS[w].kind === "http");
  if (
    httpWanted && !cfg.checkOnly && sh("which", [tool.bin]) === "(unavailable)" &&
    !existsSync(tool.bin)
  ) {
    throw new Error(`${tool.bin} not found (TOOL=${cfg.tool}; make setup-bench installs it)`);
  }
  mkdirSync(TMP, { recursive: true });
  prepareFiles(cfg);
  const startedAt = new Date();
  const info = machineInfo(cfg);
  const servers = prepareServers(cfg);

  console.log(`bench: ${cfg.workloads.length} workload(s): ${cfg.workloads.join(", ")}`);
  console.log(`starting ${servers.filter((s) => !s.status).length} server(s)`);
  for (const s of servers) {
    if (s.status) {
      console.log(`  ${s.name.padEnd(18)} ${s.status}`);
      continue;
    }
    try {
      await startServer(s);
      console.log(
        `  ${s.name.padEnd(18)} pid ${s.pid} on :${s.port}, first answer after ${
          Math.round(s.startupMs)
        } ms, RSS ${(s.restRssKb / 1024).toFixed(1)} MiB`,
      );
    } catch (err) {
      if (aborting) return;
      s.status = `failed to start: ${err.message.split("\n")[0]}`;
      s.child?.kill("SIGKILL");
      console.error(`  ${s.name.padEnd(18)} FAILED TO START: ${err.message}`);
    }
  }
  const live = () => servers.filter((s) => !s.status && alive(s));

  // Correctness of every (server, workload) before any load.
  console.log("checking answers");
  for (const w of cfg.workloads) {
    for (const s of live()) {
      if (!s.takes(w)) continue;
      s.checks[w] = await check(s, WORKLOADS[w]);
      if (s.checks[w] !== "ok" && s.checks[w] !== "n/a") {
        console.log(`  ${s.name.padEnd(18)} ${w}: ERROR ${s.checks[w]}`);
      }
    }
  }
  const bad = live().flatMap((s) =>
    Object.entries(s.checks).filter(([, v]) => v !== "ok" && v !== "n/a").map(([w]) =>
      `${s.name}/${w}`
    )
  );
  console.log(
    bad.length
      ? `  wrong answers (not timed): ${bad.join(", ")}`
      : "  every implemented workload answers correctly",
  );
  // Plan and estimate.
  const runSecs = toSeconds(cfg.duration) + SETTLE_MS / 1000 + 0.1;
  const warmSecs = toSeconds(cfg.warmup) + 0.05;
  const planSecs = (p) => (p.size ? wsSecs : runSecs + (p.r <= cfg.warmupRounds ? warmSecs : 0));
  const wsSecs = toSeconds(cfg.wsWarmup) + toSeconds(cfg.wsDuration) + 0.8;
  const plan = [];
  for (const w of cfg.workloads) {
    const who = live().filter((s) => s.checks[w] === "ok");
    const sizes = WORKLOADS[w].kind === "ws" ? cfg.wsSizes : [null];
    for (let r = 1; r <= cfg.rounds; r++) {
      const order = r % 2 === 0 ? [...who].reverse() : who;
      for (const size of sizes) for (const s of order) plan.push({ w, r, s, size });
    }
  }
  const idleWho = cfg.idleConns > 0
    ? live().filter((s) => s.takes("idle") && s.checks.hello === "ok")
    : [];
  progress.total = plan.length + idleWho.length;
  progress.secsTotal = plan.reduce((a, p) => a + planSecs(p), 0) + idleWho.length * 9;
  console.log(
    `${progress.total} runs, estimated ${
      Math.ceil(progress.secsTotal / 60)
    } min (${cfg.tool} -t${cfg.threads} -c${cfg.conns}, warm-up ${cfg.warmup}, measure ${cfg.duration}, ${cfg.rounds} round(s))`,
  );

  if (cfg.checkOnly) {
    for (const s of servers) {
      const ok = Object.entries(s.checks).filter(([, v]) => v === "ok").map(([w]) => w);
      const na = Object.entries(s.checks).filter(([, v]) => v === "n/a").map(([w]) => w);
      console.log(
        `  ${s.name.padEnd(18)} ${
          s.status || `ok: ${ok.join(" ") || "—"}${na.length ? `; n/a: ${na.join(" ")}` : ""}`
        }`,
      );
    }
    process.exitCode = bad.length || servers.some((s) => s.status.startsWith("failed")) ? 1 : 0;
    return;
  }

  // Footprint: idle connections first, before any load has grown the heaps.
  for (const s of idleWho) {
    progress.start(`idle: ${s.name} with ${cfg.idleConns} connections`, 9);
    try {
      s.idle = await idleRun(cfg, s);
      progress.end(
        `idle       ${s.name.padEnd(18)} ${s.idle.answered}/${cfg.idleConns} answered, RSS ${
          (s.idle.rssKb / 1024).toFixed(1)
        } MiB (at rest ${(s.restRssKb / 1024).toFixed(1)})${
          s.idle.errors ? `, ${s.idle.errors} failed (${s.idle.firstError})` : ""
        }`,
      );
    } catch (err) {
      if (aborting) return;
      s.idle = { error: err.message.split("\n")[0] };
      progress.end(`idle       ${s.name.padEnd(18)} FAILED: ${err.message.split("\n")[0]}`);
    }
  }

  for (const p of plan) {
    const { w, r, s, size } = p;
    if (!alive(s) || s.results[w]?.failed) {
      progress.secsDone += planSecs(p);
      progress.done++;
      continue;
    }
    const key = size ? `${w}-${size}` : w;
    const res = (s.results[key] ??= { runs: [] });
    const label = `${key.padEnd(16)} ${s.name.padEnd(18)} round ${r}/${cfg.rounds}`;
    progress.start(label, planSecs(p));
    try {
      let m;
      if (size) m = await wsRun(cfg, s, size);
      else {
        if (r <= cfg.warmupRounds) await httpRun(cfg, s, WORKLOADS[w], cfg.warmup, false);
        m = await httpRun(cfg, s, WORKLOADS[w], cfg.duration, true);
      }
      res.runs.push(m);
      progress.end(
        `${label} ${fmt.int(m.rps).padStart(9)}/s  cpu ${fmt.us(m.userUs + m.sysUs)} µs (user ${
          fmt.us(m.userUs)
        }, sys ${fmt.us(m.sysUs)})  p99 ${fmt.ms(m.p99Ms)}  errors ${m.errors}`,
      );
    } catch (err) {
      if (aborting) return;
      res.failed = `failed in round ${r}: ${err.message.split("\n")[0]}`;
      progress.end(
        `${label} FAILED: ${err.message}\n--- ${s.name} output ---\n${
          s.child.output.trim().slice(-2000) || "(none)"
        }\n---`,
      );
      if (!alive(s)) s.status = `died during ${key}, round ${r}`;
    }
  }
  for (const s of servers) {
    for (const res of Object.values(s.results)) {
      if (!res.failed && res.runs.length === cfg.rounds) res.summary = summarize(res.runs);
    }
  }
  for (const s of servers) {
    const seen = [
      s.restRssKb,
      s.idle?.rssKb,
      ...Object.values(s.results).flatMap((x) => x.runs.map((m) => m.rssKb)),
    ];
    s.peakRssKb = Math.max(...seen.filter(Number.isFinite));
  }

  const report = {
    cfg,
    info,
    servers,
    workloads: WORKLOADS,
    startedAt,
    finishedAt: new Date(),
    clkTck: CLK_TCK,
  };
  writeFileSync(cfg.out, renderReport(report));
  // `make lint` checks Markdown formatting: write it the way deno fmt wants it.
  if (existsSync(CTX.DENO)) sh(CTX.DENO, ["fmt", "--quiet", cfg.out]);
  const charts = renderCharts(report);
  mkdirSync(cfg.charts, { recursive: true });
  for (const [name, svg] of Object.entries(charts)) writeFileSync(path.join(cfg.charts, name), svg);
  console.log(
    `\nwrote ${path.relative(ROOT, cfg.out)} and ${Object.keys(charts).length} chart(s) in ${
      path.relative(ROOT, cfg.charts)
    }/ (${Math.round((Date.now() - startedAt) / 1000)} s)`,
  );
  const failed = servers.filter((s) =>
    s.status.startsWith("failed") || s.status.startsWith("died")
  );
  if (failed.length || bad.length) {
    console.error(
      `bench: problems: ${[...failed.map((s) => `${s.name} (${s.status})`), ...bad].join(", ")}`,
    );
    process.exitCode = 1;
  }
}

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
      console.error(`bench: ${err.stack ?? err.message}`);
      process.exitCode = 1;
    }
  })
  .finally(killAll);
