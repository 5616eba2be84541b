#!/usr/bin/env node
// wasmgoose benchmark orchestrator (`make bench`). Plain Node ESM, no dependencies.
//
// Starts every server once, each on its own 127.0.0.1 port, then runs interleaved
// rounds (A B C … A B C …): per server a warm-up load run (discarded) and a measured
// load run, sampling the server's CPU time (/proc/<pid>/stat utime+stime) around the
// measured run. Writes a Markdown report (default bench/RESULTS.md) with medians.
//
// Options (KEY=VALUE or --key=value arguments override the environment):
//   ROUNDS=3  DURATION=5s  WARMUP=2s  CONNS=100  THREADS=1  PORT_BASE=18001
//   ONLY=name,name  OUT=bench/RESULTS.md  TOOL=wrk
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
  return {
    rounds: int("ROUNDS", 3),
    duration: opts.DURATION || "5s",
    warmup: opts.WARMUP || "2s",
    conns: int("CONNS", 100),
    threads: int("THREADS", 1),
    portBase: int("PORT_BASE", 18001),
    only: opts.ONLY ? opts.ONLY.split(",").map((s) => s.trim()).filter(Boolean) : null,
    out: path.resolve(opts.OUT || path.join(BENCH_DIR, "RESULTS.md")),
    tool: opts.TOOL || "wrk",
  };
}

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

/** Start one server and wait until GET / answers 200. Returns a warning string or "". */
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
      const res = await fetch(s.url, { signal: AbortSignal.timeout(1000) });
      const body = await res.text();
      if (res.status === 200) {
        return body.trim() === EXPECTED_BODY
          ? ""
          : `GET / body differs from ${EXPECTED_BODY}: ${JSON.stringify(body.slice(0, 120))}`;
      }
      lastError = `GET / returned ${res.status}`;
    } catch (err) {
      lastError = err.cause?.code ?? err.message;
    }
    await sleep(100);
  }
  const why = exitStatus !== undefined
    ? `exited (${exitStatus}) before answering`
    : `no 200 on GET / within ${START_TIMEOUT_MS / 1000}s (last: ${lastError})`;
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

function renderReport(cfg, servers, info, startedAt) {
  const ref = findServer(servers, "deno", "wasmgoose");
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
    `- Load generator: ${info.tool}`,
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
  const notes = servers.filter((s) => s.warning);
  if (notes.length) {
    add("", "## Warnings", "");
    for (const s of notes) add(`- ${s.label}: ${s.warning}`);
  }
  add(
    "",
    "## Runs",
    "",
    "Every measured run (req/s; total server CPU µs/req). Within a round the servers ran top to bottom.",
    "",
    `| Server | ${Array.from({ length: cfg.rounds }, (_, i) => `round ${i + 1}`).join(" | ")} |`,
    `|---|${"--:|".repeat(cfg.rounds)}`,
  );
  for (const s of servers.filter((x) => x.runs.length)) {
    const cells = Array.from({ length: cfg.rounds }, (_, i) => {
      const r = s.runs[i];
      return r ? `${fmt.int(r.rps)}; ${fmt.us(r.userUs + r.sysUs)}` : "—";
    });
    add(`| ${s.label} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------
// Main

async function main() {
  const cfg = readConfig(process.argv.slice(2), process.env);
  const tool = TOOLS[cfg.tool];
  if (!tool) {
    throw new Error(
      `TOOL=${cfg.tool} is not supported (available: ${Object.keys(TOOLS).join(", ")})`,
    );
  }
  if (sh("which", [tool.bin]) === "(unavailable)") throw new Error(`${tool.bin} not found on PATH`);
  if (cfg.only) {
    const unknown = cfg.only.filter((n) => !SERVERS.some((s) => s.name === n));
    if (unknown.length) {
      throw new Error(
        `unknown server(s) in ONLY: ${unknown.join(", ")} (known: ${
          SERVERS.map((s) => s.name).join(", ")
        })`,
      );
    }
  }
  const startedAt = new Date();
  const info = machineInfo(cfg);

  // Select servers, assign ports (fixed per server), mark missing entries as skipped.
  const servers = SERVERS.map((s, i) => {
    const port = cfg.portBase + i;
    return {
      ...s,
      port,
      url: `http://127.0.0.1:${port}/`,
      runs: [],
      status: "",
      warning: "",
      summary: null,
    };
  }).filter((s) => !cfg.only || cfg.only.includes(s.name));
  for (const s of servers) {
    const runtimeBin = s.cmd(s.port)[0];
    if (!existsSync(path.join(ROOT, s.entry))) s.status = `skipped: ${s.entry} not found`;
    else if (!existsSync(runtimeBin)) s.status = `skipped: ${runtimeBin} not found`;
  }

  const perRun = toSeconds(cfg.warmup) + toSeconds(cfg.duration) + SETTLE_MS / 1000;
  const active = () => servers.filter((s) => !s.status);
  console.log(
    `bench: ${cfg.tool} -t${cfg.threads} -c${cfg.conns}, warm-up ${cfg.warmup}, measure ${cfg.duration}, ${cfg.rounds} round(s)`,
  );

  // Start every available server once.
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
  console.log(`estimated time: ~${Math.ceil(active().length * cfg.rounds * perRun)} s`);

  // Interleaved rounds.
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
        s.status = `failed in round ${round}: ${err.message.split("\n")[0]}`;
        console.error(
          `  round ${round}/${cfg.rounds}  ${
            s.name.padEnd(15)
          } FAILED: ${err.message}\n--- ${s.name} output ---\n${
            s.child.output.trim() || "(none)"
          }\n---`,
        );
        s.child.kill("SIGKILL");
      }
    }
  }

  if (aborting) return;
  for (const s of servers) if (s.runs.length === cfg.rounds) s.summary = summarize(s.runs);
  writeFileSync(cfg.out, renderReport(cfg, servers, info, startedAt));
  console.log(`\nwrote ${cfg.out}`);
  const failed = servers.filter((s) => s.status.startsWith("failed"));
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
