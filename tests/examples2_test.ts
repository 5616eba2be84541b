// The HTTP examples, run as child processes the way a user runs them on free
// ports — on Deno `deno run` with the permissions their header names, on Node
// the compiled `dist-test/examples/*.js` (`make dist`), and the hello server
// also on Bun — against fetch, curl, openssl-made certificates and the
// http_client example itself. Servers must exit 0 on SIGTERM.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const TIMEOUT_MS = 15_000;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root (deno.json) not found");
    dir = up;
  }
  return dir;
}

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

function skipReason(): string | undefined {
  if (!isDeno && !existsSync(join(repoRoot(), "dist-test/examples/http_server.js"))) {
    return "the compiled examples are missing: run make dist";
  }
  return undefined;
}

/** The command that runs example `name` on this runtime (or on `runtime`). */
function exampleCommand(name: string, flags: string[], runtime?: "bun"): [string, string[]] {
  const root = repoRoot();
  if (runtime === "bun") {
    return [join(root, "node_modules/@oven/bun-linux-x64/bin/bun"), [`examples/${name}.ts`]];
  }
  if (isDeno) {
    const deno = join(root, "node_modules/@deno/linux-x64-glibc/deno");
    return [deno, ["run", ...flags, "--no-prompt", `examples/${name}.ts`]];
  }
  return [process.execPath, [`dist-test/examples/${name}.js`]];
}

interface Run {
  /** The first match of `want` in the output. */
  match: RegExpExecArray;
  exit: Promise<{ code: number | null; signal: string | null }>;
  signal(sig: NodeJS.Signals): void;
  output(): string;
}

/** Runs `deno run <flags> examples/<name>.ts <args>`; resolves once `want` matches. */
async function runExample(
  name: string,
  flags: string[],
  args: string[],
  want: RegExp,
  runtime?: "bun",
): Promise<Run> {
  const root = repoRoot();
  const [cmd, pre] = exampleCommand(name, flags, runtime);
  const proc = spawn(cmd, [...pre, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    proc.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  // process.kill, not ChildProcess.kill (see tests/examples_test.ts)
  const signal = (sig: NodeJS.Signals) => {
    if (!exited && proc.pid !== undefined) process.kill(proc.pid, sig);
  };
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal("SIGKILL");
      reject(new Error(`${name}: ${want} not printed within ${TIMEOUT_MS} ms\n${out}`));
    }, TIMEOUT_MS);
    const onData = (s: string) => {
      out += s;
      const m = want.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    proc.stdout?.setEncoding("utf8");
    proc.stderr?.setEncoding("utf8");
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    exit.then(({ code, signal }) => {
      clearTimeout(timer);
      const m = want.exec(out);
      if (m !== null) resolve(m);
      else reject(new Error(`${name} exited (code ${code}, signal ${signal})\n${out}`));
    });
  });
  return { match, exit, signal, output: () => out };
}

/** SIGTERM; the example must exit 0 in time. */
async function stop(run: Run, name: string): Promise<void> {
  run.signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), TIMEOUT_MS)));
  const r = await Promise.race([run.exit, late]);
  clearTimeout(timer);
  if (r === "late") {
    run.signal("SIGKILL");
    await run.exit;
    assert.fail(`${name} did not exit within ${TIMEOUT_MS} ms of SIGTERM\n${run.output()}`);
  }
  assert.deepEqual(r, { code: 0, signal: null }, `${name} exit status\n${run.output()}`);
}

/** Runs a command to its end: exit code and output. */
function runTool(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: repoRoot(), timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, out: stdout + stderr });
    });
  });
}

/** Runs the http_client example to its end. */
function httpClient(args: string[]): Promise<{ code: number; out: string }> {
  const [cmd, pre] = exampleCommand("http_client", ["--allow-net"]);
  return runTool(cmd, [...pre, ...args]);
}

const LISTEN = ["--listen", "http://127.0.0.1:0"];
const URL_RE = /listening on (https?:\/\/127\.0\.0\.1:\d+)/;

test("examples/http_server.ts answers fetch; examples/http_client.ts gets its JSON", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const run = await runExample("http_server", ["--allow-net"], LISTEN, URL_RE);
  try {
    const base = run.match[1];
    let res = await fetch(`${base}/hello?name=Ada`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), { hello: "Ada" });
    res = await fetch(`${base}/other`);
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "not found\n");

    const client = await httpClient([`${base}/hello?name=client`]);
    assert.equal(client.code, 0, client.out);
    assert.equal(
      client.out,
      '200 OK\ncontent-type: application/json\n{"hello":"client"}\n',
    );
  } finally {
    await stop(run, "http_server");
  }
  // A refused connection: a clear message and exit code 1.
  const base = run.match[1];
  const refused = await httpClient([`${base}/hello`]);
  assert.equal(refused.code, 1);
  assert.match(refused.out, /^http_client: request to http:\/\/127\.0\.0\.1:\d+ failed/m);
});

test("examples/http_server.ts runs on Bun as it is", async (t) => {
  const bun = join(repoRoot(), "node_modules/@oven/bun-linux-x64/bin/bun");
  if (!existsSync(bun)) return t.skip("no Bun (npm @oven/bun-linux-x64)");
  const run = await runExample("http_server", [], LISTEN, URL_RE, "bun");
  try {
    const res = await fetch(`${run.match[1]}/hello?name=Bun`);
    assert.deepEqual(await res.json(), { hello: "Bun" });
  } finally {
    await stop(run, "http_server on Bun");
  }
});

test("examples/rest_api.ts: create, list, get, delete, errors", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const run = await runExample("rest_api", ["--allow-net"], LISTEN, URL_RE);
  try {
    const api = `${run.match[1]}/api/items`;
    const post = (body: string) =>
      fetch(api, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    let res = await post('{"name":"first"}');
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), "/api/items/1");
    assert.deepEqual(await res.json(), { id: 1, name: "first" });
    // the http_client example as a second client
    const client = await httpClient([api, "--post", '{"name":"second"}']);
    assert.equal(client.code, 0, client.out);
    assert.match(client.out, /^201 Created\n.*\n\{"id":2,"name":"second"\}\n$/);

    res = await fetch(api);
    assert.deepEqual(await res.json(), [{ id: 1, name: "first" }, { id: 2, name: "second" }]);
    res = await fetch(`${api}/2`);
    assert.deepEqual(await res.json(), { id: 2, name: "second" });
    res = await fetch(`${api}/1`, { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
    res = await fetch(`${api}/1`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: "no item 1" });
    res = await post("not json");
    assert.equal(res.status, 400);
    await res.body?.cancel();
    res = await fetch(api, { method: "PATCH" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, POST");
    await res.body?.cancel();
    res = await fetch(api);
    assert.deepEqual(await res.json(), [{ id: 2, name: "second" }]);
  } finally {
    await stop(run, "rest_api");
  }
});

test("examples/file_upload.ts stores a PUT body and a file in pieces on disk, serves them back", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), "wg-upload-"));
  const run = await runExample(
    "file_upload",
    ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`],
    [...LISTEN, "--dir", dir],
    URL_RE,
  );
  try {
    const base = run.match[1];
    const data = Buffer.alloc(3 * 1024 * 1024 + 7).map((_, i) => (i * 31) & 255);
    let res = await fetch(`${base}/upload/blob.bin`, { method: "PUT", body: data });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { name: "blob.bin", size: data.length });
    assert.ok(readFileSync(join(dir, "blob.bin")).equals(data));
    res = await fetch(`${base}/blob.bin`);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
    res = await fetch(`${base}/upload/.hidden`, { method: "PUT", body: "x" });
    assert.equal(res.status, 400);
    await res.body?.cancel();
    assert.equal(existsSync(join(dir, ".hidden")), false);
    // in pieces: 1 MiB each, then a repeat of the last one gets 409
    const MIB = 1 << 20;
    for (let off = 0; off < data.length; off += MIB) {
      res = await fetch(`${base}/upload?file=pieces.bin&offset=${off}`, {
        method: "POST",
        body: data.subarray(off, off + MIB),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        name: "pieces.bin",
        size: Math.min(off + MIB, data.length),
      });
    }
    assert.ok(readFileSync(join(dir, "pieces.bin")).equals(data));
    res = await fetch(`${base}/upload?file=pieces.bin&offset=${3 * MIB}`, {
      method: "POST",
      body: data.subarray(3 * MIB),
    });
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), { name: "pieces.bin", size: data.length });
  } finally {
    await stop(run, "file_upload");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("examples/static_files.ts serves files, ranges and listings; no way out of the root", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), "wg-static-"));
  const root = join(dir, "www");
  mkdirSync(join(root, "sub"), { recursive: true });
  writeFileSync(join(root, "a.txt"), "0123456789");
  writeFileSync(join(root, "sub", "b.json"), '{"b":1}');
  writeFileSync(join(dir, "secret.txt"), "secret");
  const run = await runExample(
    "static_files",
    ["--allow-net", `--allow-read=${dir}`],
    [...LISTEN, "--root", root],
    URL_RE,
  );
  try {
    const base = run.match[1];
    let res = await fetch(`${base}/a.txt`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "max-age=60");
    assert.equal(await res.text(), "0123456789");
    res = await fetch(`${base}/a.txt`, { headers: { Range: "bytes=2-4" } });
    assert.equal(res.status, 206);
    assert.equal(await res.text(), "234");
    res = await fetch(`${base}/sub/b.json`);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(await res.text(), '{"b":1}');
    res = await fetch(`${base}/sub/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /b\.json/);
    // curl --path-as-is sends the `..` that fetch would resolve away
    const out = await runTool("curl", [
      "-s",
      "--path-as-is",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `${base}/../secret.txt`,
    ]);
    assert.equal(out.out, "400");
  } finally {
    await stop(run, "static_files");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("examples/https_server.ts answers curl over TLS with an openssl certificate", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), "wg-https-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  // the command of the example's header
  const gen = await runTool("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "30",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  assert.equal(gen.code, 0, gen.out);
  const run = await runExample(
    "https_server",
    ["--allow-net", `--allow-read=${dir}`],
    ["--listen", "https://127.0.0.1:0", "--cert", cert, "--key", key],
    URL_RE,
  );
  try {
    const base = run.match[1];
    assert.match(base, /^https:/);
    const ok = await runTool("curl", ["-s", "--cacert", cert, `${base}/x?y=1`]);
    assert.equal(ok.code, 0, ok.out);
    assert.deepEqual(JSON.parse(ok.out), { hello: "over TLS", uri: "/x" });
    // without the certificate's CA, curl refuses the server (exit 60)
    const untrusted = await runTool("curl", ["-s", `${base}/`]);
    assert.equal(untrusted.code, 60);
  } finally {
    await stop(run, "https_server");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("README.md quotes examples/http_server.ts as it is", () => {
  const root = repoRoot();
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const example = readFileSync(join(root, "examples/http_server.ts"), "utf8");
  assert.ok(readme.includes("```ts\n" + example + "```\n"), "README's first example is stale");
});

test("examples/sse_chunked.ts: a chunked export (curl --raw) and an event stream (curl -N)", async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const run = await runExample("sse_chunked", ["--allow-net"], LISTEN, URL_RE);
  try {
    const base = run.match[1];
    // The raw bytes: chunked framing, 10 pieces of JSON lines, then the end
    const raw = await runTool("curl", ["-sS", "-i", "--raw", `${base}/export`]);
    assert.equal(raw.code, 0, raw.out);
    assert.match(raw.out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(raw.out, /\r\nTransfer-Encoding: chunked\r\n/i);
    assert.ok(raw.out.endsWith("\r\n0\r\n\r\n"), raw.out.slice(-40));
    // Decoded by fetch: 1000 records in order
    const res = await fetch(`${base}/export`);
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    const lines = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 1000);
    lines.forEach((r, i) => assert.deepEqual(r, { id: i, square: i * i }));
    // The event stream: the greeting with two data lines, five ticks, the end
    const sse = await runTool("curl", ["-sS", "-N", `${base}/events`]);
    assert.equal(sse.code, 0, sse.out);
    const want = "event: hello\nretry: 1000\ndata: first line\ndata: second line\n\n" +
      [1, 2, 3, 4, 5].map((n) => `event: tick\nid: ${n}\ndata: {"n":${n}}\n\n`).join("");
    assert.equal(sse.out, want);
  } finally {
    await stop(run, "sse_chunked");
  }
});
