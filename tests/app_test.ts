// The CLI's --app: `deno run mod.ts --app ./app.ts` and `node dist/src/bin.js
// --app ./app.mjs` serve the fetch() of a module's default export (a Hono app,
// a plain { fetch } object) on --listen; SIGTERM stops them with exit code 0;
// a module without one is refused. Runs on Deno and Node (the CLIs run as
// their own processes; the Node one needs `make dist`).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root (deno.json) not found");
    dir = up;
  }
  return dir;
}

const ROOT = repoRoot();
const DENO = join(ROOT, "node_modules/@deno/linux-x64-glibc/deno");

interface Cli {
  base: string;
  stop(): Promise<number | null>;
}

function startCli(argv: string[]): Promise<Cli> {
  const proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`no listening line:\n${out}`));
    }, 20_000);
    const onData = (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({
          base: m[1],
          stop: () => {
            if (proc.exitCode === null && proc.pid !== undefined) process.kill(proc.pid, "SIGTERM");
            return exited;
          },
        });
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${out}`));
    });
  });
}

function runCli(argv: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    proc.stderr.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    proc.once("close", (code) => resolve({ code, out }));
  });
}

const LISTEN = ["--listen", "http://127.0.0.1:0"];

test("--app on Deno serves a Hono app's default export", { timeout: 60_000 }, async () => {
  const cli = await startCli([
    DENO,
    "run",
    "-A",
    "mod.ts",
    "--app",
    "./tests/fixtures/hono_app.ts",
    ...LISTEN,
  ]);
  try {
    let res = await fetch(`${cli.base}/hello/world`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-served-by"), "hono");
    assert.deepEqual(await res.json(), { hello: "world" });
    res = await fetch(`${cli.base}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a":1}',
    });
    assert.deepEqual(await res.json(), { a: 1 });
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test("--app on Node serves a { fetch } module", { timeout: 60_000 }, async (t) => {
  if (!existsSync(join(ROOT, "dist/src/bin.js"))) {
    t.skip("dist/ not built (make dist)");
    return;
  }
  const cli = await startCli([
    "node",
    "dist/src/bin.js",
    "--app",
    "tests/fixtures/fetch_app.mjs",
    ...LISTEN,
  ]);
  try {
    let res = await fetch(`${cli.base}/p?q=1`);
    assert.deepEqual(await res.json(), { path: "/p", q: "1" });
    res = await fetch(`${cli.base}/`, { method: "POST", body: "abc" });
    assert.equal(await res.text(), "got abc");
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test("--app refuses a module without a default fetch", { timeout: 60_000 }, async () => {
  const r = await runCli([
    DENO,
    "run",
    "-A",
    "mod.ts",
    "--app",
    "./tests/raw_client.ts",
    ...LISTEN,
  ]);
  assert.equal(r.code, 1);
  assert.match(r.out, /no default export with a fetch\(\) method/);
  const r2 = await runCli([DENO, "run", "-A", "mod.ts", "--app"]);
  assert.equal(r2.code, 2);
  assert.match(r2.out, /--app needs a module/);
});
