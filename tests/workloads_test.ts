// The API workloads of bench/workloads.mjs against every server that implements
// them: wasmgoose's EventRouter (event API, on Deno and on Node: the Node one
// needs `make dist`) and Router on serve() (Deno), Hono on
// Deno.serve and Fastify on Node. Each server is started as its own process on
// port 0, every workload is sent with fetch and the JSON answer compared with
// expected(name); typed parameters that do not fit and unknown routes get 404.
// Runs on Deno and, compiled by tsc, on Node (the servers run on their own runtime).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const TIMEOUT_MS = 20_000;

/** The repository root: the nearest directory above this file with deno.json. */
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

interface Workload {
  method: string;
  path: string;
  contentType?: string;
  body?: string;
}
interface Workloads {
  WORKLOADS: Record<string, Workload>;
  expected(name: string): unknown;
}

const wl = (await import(pathToFileURL(join(ROOT, "bench/workloads.mjs")).href)) as Workloads;

interface Server {
  port: number;
  stop(): Promise<void>;
  output(): string;
}

/** Starts a server process with port 0; resolves once it printed its port. */
function start(argv: string[]): Promise<Server> {
  const proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return new Promise<Server>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${argv.join(" ")} did not start:\n${out}`));
    }, TIMEOUT_MS);
    const onData = (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const m = /listening (\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          output: () => out,
          stop: () => {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(" ")} exited (${code}):\n${out}`));
    });
  });
}

const SERVERS: Record<string, string[]> = {
  "wasmgoose EventRouter (Deno)": [DENO, "run", "-A", "bench/servers/wasmgoose_router.mjs", "0"],
  "wasmgoose serve() + Router (Deno)": [
    DENO,
    "run",
    "-A",
    "bench/servers/wasmgoose_serve.mjs",
    "0",
  ],
  "wasmgoose EventRouter (Node)": ["node", "bench/servers/wasmgoose_router.mjs", "0"],
  "wasmgoose serve() + Router (Node)": ["node", "bench/servers/wasmgoose_serve.mjs", "0"],
  "Hono on Deno.serve": [DENO, "run", "-A", "bench/servers/hono_deno.ts", "0"],
  "Fastify on Node": ["node", "bench/servers/fastify_node.mjs", "0"],
};

const NOT_FOUND = [
  "/int/12x",
  "/int/",
  "/uuid/550e8400-e29b-41d4-a716-44665544000",
  "/uuid/not-a-uuid-at-all-not-a-uuid-at-all",
  "/date/2024-13-01",
  "/date/2023-02-29",
  "/date/24-01-15",
  "/nowhere",
];

for (const [name, argv] of Object.entries(SERVERS)) {
  test(`workloads: ${name}`, { timeout: 60_000 }, async () => {
    const srv = await start(argv);
    try {
      const base = `http://127.0.0.1:${srv.port}`;
      const hello = await fetch(base + "/");
      assert.equal(hello.status, 200);
      assert.deepEqual(await hello.json(), { message: "Hello, World!" });
      for (const [wname, w] of Object.entries(wl.WORKLOADS)) {
        const headers: Record<string, string> = {};
        if (w.contentType !== undefined) headers["content-type"] = w.contentType;
        const res = await fetch(base + w.path, { method: w.method, headers, body: w.body });
        const text = await res.text();
        assert.equal(res.status, 200, `${wname}: status ${res.status}: ${text}`);
        assert.match(res.headers.get("content-type") ?? "", /application\/json/, wname);
        assert.deepEqual(JSON.parse(text), wl.expected(wname), wname);
      }
      for (const path of NOT_FOUND) {
        const res = await fetch(base + path);
        await res.arrayBuffer();
        assert.equal(res.status, 404, `${path}: status ${res.status}`);
      }
      const bad = await fetch(base + "/json/small", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{oops",
      });
      await bad.arrayBuffer();
      assert.equal(bad.status, 400, "bad JSON");
    } catch (e) {
      console.error(srv.output());
      throw e;
    } finally {
      await srv.stop();
    }
  });
}
