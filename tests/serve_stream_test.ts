// serve(): request bodies streamed as they arrive. A 1 GiB body sent by curl
// (chunked, from a pipe) is hashed by the handler as it reads, with the
// server's RSS growth under 100 MiB; a Content-Length body larger than the
// C core's buffer (3 MiB); the handler sees the first bytes before the
// client sent the rest (an echo: streaming both ways); backpressure (a
// handler that does not read stops the server reading: the client's writes
// stall); chunked bodies (curl, and a malformed one: 400); pipelining after
// a streamed body; a handler that ignores a large body; a client that goes
// away mid-body (the stream errors, the signal aborts); reusePort. Runs on
// Deno and, compiled by tsc, on Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import process from "node:process";
import { type HttpServer, serve, type ServeHandler, type ServeOptions } from "../mod.ts";
import { Raw } from "./raw_client.ts";
import { twoServersSharePort } from "./serve_reuseport_child.ts";

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
const MiB = 1 << 20;

function start(handler: ServeHandler, opts: ServeOptions = {}): HttpServer {
  return serve({ port: 0, hostname: "127.0.0.1", onListen: () => {}, ...opts }, handler);
}

async function stop(s: HttpServer): Promise<void> {
  await s.shutdown();
  await s.finished;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Runs `cmd` through bash; resolves with its stdout (rejects on failure). */
function sh(cmd: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const p = spawn("bash", ["-c", cmd]);
    let out = "", err = "";
    p.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    p.stderr.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    p.on("error", reject);
    p.on(
      "close",
      (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd}: ${code} ${err}`))),
    );
  });
}

/** Decodes a complete chunked body (latin1 text). */
function unchunk(s: string): string {
  let out = "", pos = 0;
  for (;;) {
    const eol = s.indexOf("\r\n", pos);
    const n = parseInt(s.slice(pos, eol), 16);
    if (n === 0) return out;
    out += s.slice(eol + 2, eol + 2 + n);
    pos = eol + 2 + n + 2;
  }
}

/** The bytes of `yes PATTERN | head -c n`, hashed (sha256 hex). */
function patternHash(pattern: string, n: number): string {
  const line = new TextEncoder().encode(pattern + "\n");
  const block = new Uint8Array(line.length * 65536);
  for (let i = 0; i < 65536; i++) block.set(line, i * line.length);
  const h = createHash("sha256");
  let left = n;
  while (left > 0) {
    const k = Math.min(left, block.length);
    h.update(k === block.length ? block : block.subarray(0, k));
    left -= k;
  }
  return h.digest("hex");
}

/** A handler that hashes the body as it reads it and answers "count hash". */
const hashing: ServeHandler = async (req) => {
  const h = createHash("sha256");
  let n = 0;
  for await (const chunk of req.body as ReadableStream<Uint8Array>) {
    n += chunk.length;
    h.update(chunk);
  }
  return new Response(`${n} ${h.digest("hex")}`);
};

test("serve: a 1 GiB chunked request body streams through with RSS growth under 100 MiB", async () => {
  const TOTAL = 1024 * MiB;
  const PATTERN = "wasmgoose streams request bodies 0123456789";
  const want = patternHash(PATTERN, TOTAL);
  let chunked = "";
  let firstAt = 0;
  const s = start(async (req) => {
    chunked = req.headers.get("transfer-encoding") ?? "";
    const h = createHash("sha256");
    let n = 0;
    for await (const chunk of req.body as ReadableStream<Uint8Array>) {
      if (n === 0) firstAt = Date.now();
      n += chunk.length;
      h.update(chunk);
    }
    return new Response(`${n} ${h.digest("hex")}`);
  });
  try {
    // curl and the generator run in their own processes: only the server's
    // memory is ours
    const rss0 = process.memoryUsage().rss;
    let maxRss = rss0;
    const timer = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 50);
    const t0 = Date.now();
    const out = await sh(
      `yes '${PATTERN}' | head -c ${TOTAL} | curl -sS -T - -X POST ` +
        `http://127.0.0.1:${s.addr.port}/up`,
    ).finally(() => clearInterval(timer));
    const secs = (Date.now() - t0) / 1000;
    assert.equal(out, `${TOTAL} ${want}`);
    assert.equal(chunked, "chunked");
    assert.ok(firstAt > 0 && firstAt - t0 < secs * 1000 / 2, "the first bytes came early");
    const grew = (maxRss - rss0) / MiB;
    if (process.env.SHOW_RSS) {
      console.log(
        `1 GiB chunked: ${secs.toFixed(1)} s, RSS ${rss0 >> 20} -> max ${maxRss >> 20} MiB`,
      );
    }
    assert.ok(grew < 100, `RSS grew by ${grew.toFixed(1)} MiB`);
  } finally {
    await stop(s);
  }
});

test("serve: a Content-Length body larger than the core's buffer (3 MiB) streams", async () => {
  const TOTAL = 48 * MiB + 123;
  const PATTERN = "content-length body";
  let framing = "";
  const s = start((req, info) => {
    framing = `${req.headers.get("content-length")} ${req.headers.get("transfer-encoding")}`;
    return hashing(req, info);
  });
  try {
    const out = await sh(
      `yes '${PATTERN}' | head -c ${TOTAL} | curl -sS -T - -X PUT ` +
        `-H 'Content-Length: ${TOTAL}' -H 'Transfer-Encoding:' http://127.0.0.1:${s.addr.port}/`,
    );
    assert.equal(out, `${TOTAL} ${patternHash(PATTERN, TOTAL)}`);
    assert.equal(framing, `${TOTAL} null`);
  } finally {
    await stop(s);
  }
});

test("serve: the body readers work on streamed bodies (text, arrayBuffer, json, formData)", async () => {
  const s = start(async (req) => {
    const u = new URL(req.url);
    if (u.pathname === "/text") return new Response(String((await req.text()).length));
    if (u.pathname === "/ab") return new Response(String((await req.arrayBuffer()).byteLength));
    if (u.pathname === "/json") {
      const v = await req.json() as { big: string };
      return new Response(String(v.big.length));
    }
    const f = await req.formData();
    const file = f.get("file") as Blob;
    return new Response(`${f.get("name")} ${file.size}`);
  });
  try {
    const base = `http://127.0.0.1:${s.addr.port}`;
    const big = "x".repeat(5 * MiB);
    let r = await fetch(base + "/text", { method: "POST", body: big });
    assert.equal(await r.text(), String(5 * MiB));
    r = await fetch(base + "/ab", { method: "POST", body: new Uint8Array(4 * MiB + 1) });
    assert.equal(await r.text(), String(4 * MiB + 1));
    r = await fetch(base + "/json", { method: "POST", body: JSON.stringify({ big }) });
    assert.equal(await r.text(), String(5 * MiB));
    const fd = new FormData();
    fd.set("name", "blob");
    fd.set("file", new Blob([new Uint8Array(3 * MiB + 7)]), "f.bin");
    r = await fetch(base + "/form", { method: "POST", body: fd });
    assert.equal(await r.text(), `blob ${3 * MiB + 7}`);
    // a small chunked body (curl) is streamed too
    const out = await sh(
      `printf 'hello chunked' | curl -sS -H 'Transfer-Encoding: chunked' --data-binary @- ${base}/text`,
    );
    assert.equal(out, "13");
  } finally {
    await stop(s);
  }
});

test("serve: the handler reads the first bytes before the client sends the rest (echo both ways)", async () => {
  const s = start((req) => new Response(req.body));
  try {
    const c = new Raw(s.addr.port);
    const first = "A".repeat(100 * 1024);
    const rest = "B".repeat(100 * 1024);
    c.write(
      `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${first.length + rest.length}\r\n\r\n`,
    );
    c.write(first);
    // The response head and the echoed first part arrive while the client
    // has not sent the rest yet
    await c.until(() => c.buf.includes("A".repeat(1000)), "the first part echoed", 10000);
    assert.match(c.buf, /^HTTP\/1\.1 200 /);
    assert.ok(!c.buf.includes("B"));
    c.write(rest);
    await c.until(() => c.buf.endsWith("0\r\n\r\n"), "the whole echo", 10000);
    const body = unchunk(c.buf.slice(c.buf.indexOf("\r\n\r\n") + 4));
    assert.equal(body, first + rest);
    c.destroy();
  } finally {
    await stop(s);
  }
});

test("serve: backpressure: a handler that does not read stops the server reading", async () => {
  const TOTAL = 256 * MiB;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let count = 0;
  const s = start(async (req) => {
    await gate;
    for await (const chunk of req.body as ReadableStream<Uint8Array>) count += chunk.length;
    return new Response(String(count));
  });
  try {
    const sock = net.connect({ host: "127.0.0.1", port: s.addr.port });
    await new Promise<void>((r) => sock.on("connect", () => r()));
    let reply = "";
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => (reply += d));
    sock.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${TOTAL}\r\n\r\n`);
    const piece = new Uint8Array(MiB).fill(7);
    let written = 0;
    let stalled = false;
    // Write until the socket stops taking data (the server no longer reads)
    for (let i = 0; i < 200 && written < TOTAL; i++) {
      while (written < TOTAL && sock.write(piece)) written += piece.length;
      if (written >= TOTAL) break;
      written += piece.length; // that last write was buffered too
      const drained = await Promise.race([
        new Promise<boolean>((r) => sock.once("drain", () => r(true))),
        sleep(1000).then(() => false),
      ]);
      if (!drained) {
        stalled = true;
        break;
      }
    }
    // Bounded: the handler's queue (256 KiB), a read or two, socket buffers
    assert.ok(stalled, `the client wrote ${written >> 20} MiB without a stall`);
    assert.ok(written < 64 * MiB, `the client wrote ${written >> 20} MiB before stalling`);
    assert.equal(count, 0);
    release();
    while (written < TOTAL) {
      if (!sock.write(piece)) await new Promise<void>((r) => sock.once("drain", () => r()));
      written += piece.length;
    }
    const deadline = Date.now() + 60000;
    while (!reply.includes("\r\n\r\n" + TOTAL) && Date.now() < deadline) await sleep(20);
    assert.match(reply, new RegExp(`^HTTP/1\\.1 200 [^]*\\r\\n\\r\\n${TOTAL}$`));
    sock.destroy();
  } finally {
    await stop(s);
  }
});

test("serve: pipelined requests after a streamed body; a handler that ignores a large body", async () => {
  const s = start(async (req) => {
    const u = new URL(req.url);
    if (u.pathname === "/ignore") return new Response("ignored");
    if (u.pathname === "/count") return new Response(String((await req.arrayBuffer()).byteLength));
    return new Response("get " + u.pathname);
  });
  try {
    const c = new Raw(s.addr.port);
    const body = "z".repeat(300 * 1024);
    c.write(
      `POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        `GET /a HTTP/1.1\r\nHost: x\r\n\r\n` +
        `POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        `GET /b HTTP/1.1\r\nHost: x\r\n\r\n` +
        `POST /ignore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `10000\r\n${"q".repeat(65536)}\r\n0\r\n\r\n` +
        `GET /c HTTP/1.1\r\nHost: x\r\n\r\n` +
        `GET /d HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        `GET /e HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const rs = await c.waitResponses(8);
    assert.deepEqual(rs.map((r) => r.body), [
      String(body.length),
      "get /a",
      "ignored",
      "get /b",
      "ignored",
      "get /c",
      "get /d", // a GET's body is not read (a Request of GET has none)
      "get /e",
    ]);
    assert.ok(!c.closed);
    c.destroy();
    // An ignored body far larger than worth receiving: the connection closes
    // once the answer is out
    const d = new Raw(s.addr.port);
    d.write(`POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 30}\r\n\r\n`);
    await pourUntilClosed(d, "i");
    await d.waitClose();
    assert.equal(d.responses()[0]?.body, "ignored");
  } finally {
    await stop(s);
  }
});

/** Sends up to 64 MiB of body bytes `ch`, a MiB at a time, until the server closes. */
async function pourUntilClosed(d: Raw, ch: string): Promise<void> {
  const piece = ch.repeat(MiB);
  for (let i = 0; i < 64 && !d.closed; i++) {
    d.write(piece);
    await sleep(5);
  }
}

test("serve: a body reader abandoned after the response does not hang the connection", async () => {
  const s = start(async (req) => {
    const reader = (req.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // one piece, then the reader is forgotten
    return new Response("answered");
  });
  try {
    const d = new Raw(s.addr.port);
    d.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 30}\r\n\r\n`);
    await pourUntilClosed(d, "r");
    // The rest was taken, then dropped, then the connection closed
    await d.waitClose();
    assert.equal(d.responses()[0]?.body, "answered");
  } finally {
    await stop(s);
  }
});

test("serve: a malformed chunked body gets 400 and the stream errors", async () => {
  let err: unknown;
  const s = start(async (req) => {
    try {
      await req.text();
    } catch (e) {
      err = e;
    }
    return new Response("unreachable");
  });
  try {
    const c = new Raw(s.addr.port);
    c.write(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
    await sleep(50);
    c.write(`zz\r\nGET / HTTP/1.1\r\n\r\n`);
    await c.waitClose();
    const rs = c.responses();
    assert.equal(rs.length, 1);
    assert.equal(rs[0].status, 400);
    for (let i = 0; i < 100 && err === undefined; i++) await sleep(10);
    assert.ok(err instanceof TypeError, String(err));
  } finally {
    await stop(s);
  }
});

test("serve: a client that goes away mid-body errors the stream and aborts the signal", async () => {
  let readErr: unknown;
  let aborted = false;
  let got = 0;
  const done = deferred();
  const s = start(async (req) => {
    req.signal.addEventListener("abort", () => (aborted = true));
    try {
      for await (const chunk of req.body as ReadableStream<Uint8Array>) got += chunk.length;
    } catch (e) {
      readErr = e;
    }
    done.resolve();
    return new Response("late");
  });
  try {
    const c = new Raw(s.addr.port);
    c.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * MiB}\r\n\r\n`);
    c.write("p".repeat(200 * 1024));
    await sleep(100);
    c.destroy();
    await Promise.race([done.promise, sleep(5000)]);
    assert.ok(readErr !== undefined, "the body stream errored");
    assert.equal((readErr as Error).name, "AbortError");
    assert.ok(aborted, "the signal aborted");
    assert.ok(got > 0 && got < 10 * MiB);
    // A client that half-closes mid-body: the same
    readErr = undefined;
    const p2 = deferred();
    const s2 = start(async (req) => {
      try {
        await req.arrayBuffer();
      } catch (e) {
        readErr = e;
      }
      p2.resolve();
      return new Response("x");
    });
    const e = new Raw(s2.addr.port);
    e.write(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${MiB}\r\n\r\n${"h".repeat(100 * 1024)}`,
    );
    await sleep(50);
    e.sock.end();
    await Promise.race([p2.promise, sleep(5000)]);
    assert.ok(readErr !== undefined, "the body stream errored on a half-close");
    e.destroy();
    await stop(s2);
  } finally {
    await stop(s);
  }
});

test("serve: reusePort", { skip: !isDeno && !nodeHasReusePort() }, async () => {
  if (!isDeno) {
    // Node.js with SO_REUSEPORT support (or Bun): two servers share the port
    await twoServersSharePort();
    return;
  }
  // Deno needs --unstable-net for reusePort (a clear error without it): run
  // it in a child process
  const unstableNet = typeof (globalThis as unknown as { Deno: { listenDatagram?: unknown } })
    .Deno.listenDatagram === "function";
  if (!unstableNet) {
    assert.throws(
      () => start(() => new Response("x"), { reusePort: true }),
      /reusePort on Deno needs the --unstable-net flag/,
    );
  }
  const exe = (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath();
  const url = new URL("./serve_reuseport_child.ts", import.meta.url).pathname;
  const out = await sh(`'${exe}' run -A --unstable-net '${url}'`);
  assert.equal(out.trim(), "both servers answered");
});

test("serve: reusePort on a Node.js without it is a clear error", {
  skip: isDeno || nodeHasReusePort(),
}, () => {
  assert.throws(
    () => start(() => new Response("x"), { reusePort: true }),
    /reusePort needs Node\.js 22\.12 \/ 23\.1 or later/,
  );
});

function nodeHasReusePort(): boolean {
  const v = process.versions;
  if (isDeno) return false;
  if (v.bun !== undefined) return true;
  const [major, minor] = v.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}
