// `--workers 2` of the CLI, as a user runs it (Deno: `deno run -A mod.ts`,
// Node: `node dist/src/bin.js`), against node:http with a new connection per
// request: both workers answer (the X-Worker header names them), a worker
// killed with SIGKILL is restarted with a new pid and answers again, and
// SIGTERM to the primary stops every worker and exits 0.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as http from "node:http";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const TIMEOUT_MS = 20_000;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root (deno.json) not found");
    dir = up;
  }
  return dir;
}

/** The CLI command of the runtime running this test. */
function cliCommand(root: string): [string, string[]] {
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) {
    return [join(root, "node_modules/@deno/linux-x64-glibc/deno"), [
      "run",
      "-A",
      "--no-prompt",
      "mod.ts",
    ]];
  }
  return [process.execPath, ["dist/src/bin.js"]];
}

/** One GET / on a new connection: the worker index and pid, or null on error. */
function ask(url: string): Promise<{ index: string; pid: string } | null> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (s: string) => body += s);
      res.on("end", () => {
        const index = res.headers["x-worker"];
        const pid = res.headers["x-worker-pid"];
        if (
          res.statusCode === 200 && body === '{"message":"Hello, World!"}' &&
          typeof index === "string" && typeof pid === "string"
        ) {
          resolve({ index, pid });
        } else {
          resolve(null);
        }
      });
      res.on("error", () => resolve(null));
    });
    req.on("error", () => resolve(null));
    req.setTimeout(3000, () => req.destroy());
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks until `done(seen)` holds; `seen` maps each worker index to its pids. */
async function askUntil(
  url: string,
  done: (seen: Map<string, Set<string>>) => boolean,
): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  const end = Date.now() + TIMEOUT_MS;
  while (!done(seen)) {
    if (Date.now() > end) {
      throw new Error(`workers seen: ${JSON.stringify([...seen].map(([k, v]) => [k, [...v]]))}`);
    }
    const r = await ask(url);
    if (r === null) {
      await sleep(50); // a worker not bound yet, or just killed
      continue;
    }
    if (!seen.has(r.index)) seen.set(r.index, new Set());
    seen.get(r.index)!.add(r.pid);
  }
  return seen;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("--workers 2: both answer, a killed worker is restarted, SIGTERM stops all", async () => {
  const root = repoRoot();
  const [cmd, args] = cliCommand(root);
  const proc = spawn(cmd, [...args, "--workers", "2", "--listen", "http://127.0.0.1:0"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stdout.on("data", (s: string) => out += s);
  proc.stderr.on("data", (s: string) => out += s);
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    proc.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const waitFor = async (re: RegExp): Promise<RegExpExecArray> => {
    const end = Date.now() + TIMEOUT_MS;
    for (;;) {
      const m = re.exec(out);
      if (m !== null) return m;
      if (Date.now() > end) throw new Error(`no ${re} in the output:\n${out}`);
      await sleep(50);
    }
  };
  const pids = new Set<number>();
  try {
    const url = (await waitFor(/2 workers on (http:\/\/\S+)/))[1];
    const first = await waitFor(/worker 0 started \(pid (\d+)\)/);
    const pid0 = Number(first[1]);
    pids.add(pid0);
    pids.add(Number((await waitFor(/worker 1 started \(pid (\d+)\)/))[1]));

    // Both workers answer, each with the pid the primary reported.
    const seen = await askUntil(url, (s) => s.has("0") && s.has("1"));
    assert.deepEqual([...seen.keys()].sort(), ["0", "1"]);
    assert.deepEqual([...seen.get("0")!], [String(pid0)]);

    // Kill worker 0: the primary restarts it with a new pid, which answers.
    process.kill(pid0, "SIGKILL");
    const again = await waitFor(
      /worker 0 died \(SIGKILL\); restarting it\n.*worker 0 started \(pid (\d+)\)/,
    );
    const newPid = Number(again[1]);
    pids.add(newPid);
    assert.notEqual(newPid, pid0);
    await askUntil(url, (s) => s.get("0")?.has(String(newPid)) === true);
    assert.equal(alive(pid0), false);

    // SIGTERM to the primary: every worker stops, the primary exits 0.
    process.kill(proc.pid!, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      exit,
      new Promise<null>((res) => timer = setTimeout(() => res(null), TIMEOUT_MS)),
    ]);
    clearTimeout(timer);
    assert.deepEqual(r, { code: 0, signal: null }, out);
    const end = Date.now() + 5000;
    while ([...pids].some(alive) && Date.now() < end) await sleep(50);
    assert.deepEqual([...pids].filter(alive), [], "workers left running");
  } finally {
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }
});

test("--workers rejects a bad count", async () => {
  const root = repoRoot();
  const [cmd, args] = cliCommand(root);
  for (const n of ["0", "x", "999"]) {
    const proc = spawn(cmd, [...args, "--workers", n], { cwd: root, stdio: "pipe" });
    let err = "";
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (s: string) => err += s);
    const code = await new Promise<number | null>((r) => proc.once("exit", (c) => r(c)));
    assert.equal(code, 2);
    assert.match(err, /--workers needs a number from 1 to 256/);
  }
});

test("--workers on Deno without --allow-run: a clear error, exit 1", async (t) => {
  if ((globalThis as { Deno?: unknown }).Deno === undefined) return t.skip("Deno only");
  const root = repoRoot();
  const deno = join(root, "node_modules/@deno/linux-x64-glibc/deno");
  const proc = spawn(deno, [
    "run",
    "--allow-net",
    "--no-prompt",
    "mod.ts",
    "--workers",
    "2",
    "--listen",
    "http://127.0.0.1:0",
  ], { cwd: root, stdio: "pipe" });
  let err = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (s: string) => err += s);
  const code = await new Promise<number | null>((r) => proc.once("exit", (c) => r(c)));
  assert.equal(code, 1);
  assert.match(err, /--workers on Deno needs --allow-run/);
});
