// serve(): the Deno.serve contract on wasmgoose. Every body type with the
// right framing (Content-Length or chunked), HEAD, request bodies, the order
// of pipelined responses whose handlers finish out of order, backpressure on
// streamed responses (a client that does not read stops the stream being
// pulled; a 1 GiB streamed body keeps RSS under 100 MiB), client aborts
// (the request's signal), handler errors (500, onError), shutdown and the
// abort signal, a Hono app (from npm) unchanged on serve(app.fetch), and
// upgradeWebSocket() against the runtime's WebSocket client (Deno) or `ws`
// (Node). Runs on Deno and, compiled by tsc, on Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { spawn } from "node:child_process";
import process from "node:process";
import { Hono } from "hono";
import WS from "ws";
import {
  type HttpServer,
  serve,
  type ServeHandler,
  type ServeOptions,
  upgradeWebSocket,
} from "../mod.ts";
import { Raw } from "./raw_client.ts";

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
const encoder = new TextEncoder();

function start(handler: ServeHandler, opts: ServeOptions = {}): HttpServer {
  return serve({ port: 0, hostname: "127.0.0.1", onListen: () => {}, ...opts }, handler);
}

async function stop(s: HttpServer): Promise<void> {
  await s.shutdown();
  await s.finished;
}

/** One raw response: head lines and the body bytes (chunked bodies decoded). */
interface RawResp {
  status: number;
  headers: Map<string, string>;
  body: string;
  chunked: boolean;
}

/** Parses complete responses out of `buf` (latin1); `head`: no bodies (HEAD). */
function parseAll(buf: string, head = false): RawResp[] {
  const out: RawResp[] = [];
  let pos = 0;
  for (;;) {
    const end = buf.indexOf("\r\n\r\n", pos);
    if (end < 0) return out;
    const lines = buf.slice(pos, end).split("\r\n");
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
    }
    const status = Number(lines[0].split(" ")[1]);
    let p = end + 4;
    const chunked = headers.get("transfer-encoding") === "chunked";
    let body = "";
    if (head) {
      // nothing follows the head
    } else if (chunked) {
      for (;;) {
        const le = buf.indexOf("\r\n", p);
        if (le < 0) return out;
        const n = parseInt(buf.slice(p, le), 16);
        if (buf.length < le + 2 + n + 2) return out;
        body += buf.slice(le + 2, le + 2 + n);
        p = le + 2 + n + 2;
        if (n === 0) break;
      }
    } else {
      const n = Number(headers.get("content-length") ?? 0);
      if (buf.length < p + n) return out;
      body = buf.slice(p, p + n);
      p += n;
    }
    out.push({ status, headers, body, chunked });
    pos = p;
  }
}

async function rawResponses(port: number, req: string, n: number, head = false) {
  const c = new Raw(port);
  c.write(req);
  await c.until(() => parseAll(c.buf, head).length >= n, `${n} responses`, 10_000);
  c.destroy();
  return parseAll(c.buf, head);
}

function stream(parts: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (i < parts.length) ctl.enqueue(encoder.encode(parts[i++]));
      else ctl.close();
    },
  });
}

// Known gaps on Bun (docs/serve.md): a string body's default Content-Type is not
// sent, and `new Request(req)` refuses the lazy request object.
const ON_BUN = (globalThis as { process?: { versions?: { bun?: string } } }).process?.versions
  ?.bun !== undefined;
const BUN_GAP = ON_BUN ? "known Bun gap: see docs/serve.md" : undefined;

test("serve: text and JSON bodies made without headers, status kept, HEAD without body", async () => {
  // On Deno these keep their body aside until it is read (a "lazy" body)
  const s = start((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/text") return new Response("hello é");
    if (path === "/gone") return new Response("gone", { status: 410 });
    if (path === "/json") return Response.json({ a: "é", n: [1, 2] });
    if (path === "/json201") return Response.json({ ok: true }, { status: 201 });
    if (path === "/empty") return new Response("");
    return new Response(null, { status: 204 });
  });
  try {
    const port = s.addr.port;
    const get = async (p: string, method = "GET") =>
      (await rawResponses(
        port,
        `${method} ${p} HTTP/1.1\r\nHost: x\r\n\r\n`,
        1,
        method === "HEAD",
      ))[0];
    const utf8 = (latin1: string) => Buffer.from(latin1, "latin1").toString("utf8");
    let r = await get("/text");
    assert.deepEqual(
      [r.status, r.headers.get("content-length"), utf8(r.body)],
      [200, "8", "hello é"],
    );
    // On Bun a text body's default Content-Type is not sent (a known gap, docs/serve.md)
    if (!ON_BUN) assert.equal(r.headers.get("content-type"), "text/plain;charset=UTF-8");
    r = await get("/gone");
    assert.deepEqual([r.status, r.body], [410, "gone"]);
    r = await get("/json");
    // The runtime's own type for Response.json() (Bun adds a charset)
    const jsonType = Response.json(null).headers.get("content-type");
    assert.deepEqual(
      [r.status, r.headers.get("content-type"), JSON.parse(utf8(r.body))],
      [200, jsonType, { a: "é", n: [1, 2] }],
    );
    assert.equal(r.headers.get("content-length"), String(Buffer.byteLength('{"a":"é","n":[1,2]}')));
    r = await get("/json201");
    assert.deepEqual([r.status, r.body], [201, '{"ok":true}']);
    r = await get("/empty");
    assert.deepEqual([r.status, r.headers.get("content-length"), r.body], [200, "0", ""]);
    r = await get("/text", "HEAD");
    assert.deepEqual([r.status, r.headers.get("content-length"), r.body], [200, "8", ""]);
    r = await get("/none");
    assert.equal(r.status, 204);
  } finally {
    await s.shutdown();
  }
});

test("serve: every body type, with Content-Length or chunked framing", async (t) => {
  if (BUN_GAP !== undefined) return t.skip(BUN_GAP);
  const form = new FormData();
  form.append("a", "1");
  const bodies: Record<string, () => BodyInit | null> = {
    "/string": () => "hello é",
    "/bytes": () => new Uint8Array([104, 105]),
    "/blob": () => new Blob(["bl", "ob"], { type: "text/x-blob" }),
    "/params": () => new URLSearchParams({ x: "1 2", y: "&" }),
    "/form": () => form,
    "/stream": () => stream(["one ", "two ", "three"]),
    "/empty-stream": () => stream([]),
    "/null": () => null,
  };
  const s = start((req) => {
    const path = new URL(req.url).pathname;
    const b = bodies[path];
    if (b === undefined) return new Response("nope", { status: 404 });
    return new Response(b(), { headers: { "X-Path": path } });
  });
  try {
    const port = s.addr.port;
    const get = (p: string) => rawResponses(port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`, 1);
    let [r] = await get("/string");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-length"), "8");
    assert.equal(r.headers.get("content-type"), "text/plain;charset=UTF-8");
    assert.equal(r.headers.get("x-path"), "/string");
    assert.equal(Buffer.from(r.body, "latin1").toString("utf8"), "hello é");
    [r] = await get("/bytes");
    assert.equal(r.body, "hi");
    assert.equal(r.headers.get("content-length"), "2");
    [r] = await get("/blob");
    assert.equal(r.body, "blob");
    assert.equal(r.headers.get("content-type"), "text/x-blob");
    [r] = await get("/params");
    assert.equal(r.body, "x=1+2&y=%26");
    assert.match(r.headers.get("content-type") ?? "", /application\/x-www-form-urlencoded/);
    [r] = await get("/form");
    const ct = r.headers.get("content-type") ?? "";
    assert.match(ct, /^multipart\/form-data; boundary=/);
    assert.match(r.body, /name="a"\r\n\r\n1\r\n/);
    [r] = await get("/stream");
    assert.equal(r.chunked, true);
    assert.equal(r.headers.get("content-length"), undefined);
    assert.equal(r.body, "one two three");
    [r] = await get("/empty-stream");
    assert.equal(r.headers.get("content-length"), "0");
    assert.equal(r.body, "");
    [r] = await get("/null");
    assert.equal(r.headers.get("content-length"), "0");
    // The same through fetch
    const f = await fetch(`http://127.0.0.1:${port}/stream`);
    assert.equal(await f.text(), "one two three");
  } finally {
    await stop(s);
  }
});

test("serve: HEAD answers the head only", async () => {
  const s = start((req) => {
    const path = new URL(req.url).pathname;
    return new Response(path === "/stream" ? stream(["a", "b"]) : "twelve bytes");
  });
  try {
    const port = s.addr.port;
    const rs = await rawResponses(
      port,
      "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
      3,
      true,
    );
    assert.equal(rs[0].headers.get("content-length"), "12");
    assert.equal(rs[1].headers.get("transfer-encoding"), "chunked");
    // Nothing of a body came between the heads: the third head is right there
    assert.equal(rs[2].status, 200);
    assert.equal(rs[2].headers.get("content-length"), "12");
  } finally {
    await stop(s);
  }
});

test("serve: request line, headers, query, body and info", async () => {
  let seen: Record<string, unknown> = {};
  let completed: Promise<void> | undefined;
  const s = start(async (req, info) => {
    completed = info.completed;
    seen = {
      method: req.method,
      url: req.url,
      q: new URL(req.url).searchParams.get("q"),
      hdr: req.headers.get("x-test"),
      remote: info.remoteAddr.hostname,
      transport: info.remoteAddr.transport,
    };
    const body = new Uint8Array(await req.arrayBuffer());
    return new Response(body, { status: 201, headers: { "x-len": String(body.length) } });
  });
  try {
    const big = new Uint8Array(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;
    const res = await fetch(`http://127.0.0.1:${s.addr.port}/p/a%20th?q=a+b&z=1`, {
      method: "PUT",
      headers: { "X-Test": "yes" },
      body: big,
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-len"), "300000");
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), big);
    assert.equal(seen.method, "PUT");
    assert.equal(seen.url, `http://127.0.0.1:${s.addr.port}/p/a%20th?q=a+b&z=1`);
    assert.equal(seen.q, "a b");
    assert.equal(seen.hdr, "yes");
    assert.equal(seen.remote, "127.0.0.1");
    assert.equal(seen.transport, "tcp");
    await completed; // resolves once the response went out
  } finally {
    await stop(s);
  }
});

test("serve: the request is a real Request to the runtime (instanceof, new Request(req), body stream, formData)", async (t) => {
  if (BUN_GAP !== undefined) return t.skip(BUN_GAP);
  const seen: Record<string, unknown> = {};
  const s = start(async (req) => {
    const path = new URL(req.url).pathname;
    seen.isRequest = req instanceof Request;
    if (path === "/copy") {
      const copy = new Request(req, { headers: { "x-copy": "1" } });
      seen.copyUrl = copy.url;
      seen.copyMethod = copy.method;
      seen.copyHeader = copy.headers.get("x-copy");
      return new Response(await copy.text());
    }
    if (path === "/stream") {
      seen.cache = req.cache;
      const chunks: Uint8Array[] = [];
      for await (const ch of req.body as ReadableStream<Uint8Array>) chunks.push(ch);
      seen.bodyUsed = req.bodyUsed;
      return new Response(`${chunks.reduce((a, c) => a + c.length, 0)} bytes`);
    }
    if (path === "/form") {
      const clone = req.clone();
      const f = await req.formData();
      return new Response(`${f.get("a")},${f.get("b")},${(await clone.text()).length}`);
    }
    const t = await req.text();
    await assert.rejects(req.text(), TypeError); // read twice
    seen.used = req.bodyUsed;
    return new Response(t);
  });
  try {
    const base = `http://127.0.0.1:${s.addr.port}`;
    let res = await fetch(`${base}/copy`, { method: "POST", body: "copied" });
    assert.equal(await res.text(), "copied");
    assert.equal(seen.isRequest, true);
    assert.equal(seen.copyUrl, `${base}/copy`);
    assert.equal(seen.copyMethod, "POST");
    assert.equal(seen.copyHeader, "1");
    res = await fetch(`${base}/stream`, { method: "POST", body: new Uint8Array(70_000) });
    assert.equal(await res.text(), "70000 bytes");
    assert.equal(seen.bodyUsed, true);
    assert.equal(seen.cache, "default");
    res = await fetch(`${base}/form`, {
      method: "POST",
      body: new URLSearchParams({ a: "1", b: "x y" }),
    });
    assert.equal(await res.text(), "1,x y,9");
    res = await fetch(`${base}/text`, { method: "POST", body: "once" });
    assert.equal(await res.text(), "once");
    assert.equal(seen.used, true);
  } finally {
    await stop(s);
  }
});

test("serve: each request gets its own header lines as received (trimmed values, LF line ends, repeats)", async () => {
  const s = start((req) => Response.json({ url: req.url, headers: [...req.headers] }));
  try {
    // Header blocks of the same length that differ in their last byte, a
    // repeat of the first, LF-only line ends, and a non-ASCII value: the
    // server keeps the last block to skip decoding it again (src/http.ts)
    const first = "GET /a HTTP/1.1\r\nHost: h1\r\nX-A:  one \t\r\nX-B:\r\nX-C:\tv\r\n\r\n";
    const req = first +
      "GET /b?x=1 HTTP/1.1\nHost: h2\nX-A: two\nX-A: again\n\n" +
      "GET /c HTTP/1.1\r\nHost: h1\r\nX-A:  one \t\r\nX-B:\r\nX-C:\tw\r\n\r\n" +
      first +
      "GET /d HTTP/1.1\r\nHost: h4\r\nX-N: caf\xc3\xa9\r\nX-Z: z\r\n\r\n" +
      "GET /e HTTP/1.1\r\nHost: h5\r\nX-N: cafe!\r\nX-Z: y\r\n\r\n";
    const rs = await rawResponses(s.addr.port, req, 6);
    const got = rs.map((r) => JSON.parse(r.body));
    const one = [["host", "h1"], ["x-a", "one"], ["x-b", ""], ["x-c", "v"]];
    assert.deepEqual(got[0], { url: "http://h1/a", headers: one });
    assert.deepEqual(got[1], {
      url: "http://h2/b?x=1",
      headers: [["host", "h2"], ["x-a", "two, again"]],
    });
    assert.deepEqual(got[2], {
      url: "http://h1/c",
      headers: [["host", "h1"], ["x-a", "one"], ["x-b", ""], ["x-c", "w"]],
    });
    assert.deepEqual(got[3], { url: "http://h1/a", headers: one });
    assert.equal(got[4].url, "http://h4/d");
    assert.deepEqual(got[4].headers[2], ["x-z", "z"]);
    assert.deepEqual(got[5], {
      url: "http://h5/e",
      headers: [["host", "h5"], ["x-n", "cafe!"], ["x-z", "y"]],
    });
  } finally {
    await stop(s);
  }
});

test("serve: pipelined requests are answered in order when handlers finish out of order", async () => {
  const finished: number[] = [];
  const s = start(async (req) => {
    const n = Number(new URL(req.url).searchParams.get("n"));
    const ms = Number(new URL(req.url).searchParams.get("ms"));
    await new Promise((r) => setTimeout(r, ms));
    finished.push(n);
    return new Response(n === 2 ? stream([`r${n}`, "!"]) : `r${n}`);
  });
  try {
    let req = "";
    const delays = [120, 0, 60, 5];
    delays.forEach((ms, i) => (req += `GET /?n=${i + 1}&ms=${ms} HTTP/1.1\r\nHost: x\r\n\r\n`));
    const rs = await rawResponses(s.addr.port, req, 4);
    assert.deepEqual(rs.map((r) => r.body), ["r1", "r2!", "r3", "r4"]);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(finished.length, 4);
  } finally {
    await stop(s);
  }
});

test("serve: a buffered request body, read while the handler runs, after an await or kept for later, is each request's own", async () => {
  // One write carries all the requests, so their bodies lie in the same
  // receive buffer and the next request reuses the memory of the last
  const kept: Request[] = [];
  const s = start(async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/now") return new Response(await req.text()); // read before the first await
    if (path === "/bytes") {
      const ab = await req.arrayBuffer();
      return new Response(`${ab.byteLength}:${new TextDecoder().decode(ab)}`);
    }
    if (path === "/kept") {
      kept.push(req);
      return new Response("kept");
    }
    await new Promise((r) => setTimeout(r, 20));
    return new Response(await req.text()); // /later: read after the handler returned
  });
  const body = (tag: string, n: number) => tag + "-".repeat(n - tag.length - 1) + "|";
  const cases: Array<[string, string]> = [
    ["/now", body("now-small", 100)],
    ["/later", body("later-big", 40_000)], // past the 4 KiB slab
    ["/kept", body("kept-small", 300)],
    ["/now", body("now-big", 20_000)],
    ["/bytes", body("bytes", 5_000)],
    ["/later", body("later-small", 50)],
    ["/kept", body("kept-big", 30_000)],
    ["/now", body("last", 64)],
  ];
  try {
    let raw = "";
    for (const [path, b] of cases) {
      raw += `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${b.length}\r\n\r\n${b}`;
    }
    const rs = await rawResponses(s.addr.port, raw, cases.length);
    assert.deepEqual(
      rs.map((r) => r.body),
      cases.map(([path, b]) =>
        path === "/kept" ? "kept" : path === "/bytes" ? `${b.length}:${b}` : b
      ),
    );
    // Read long after their memory was reused by the requests that followed
    assert.deepEqual(await Promise.all(kept.map((r) => r.text())), [cases[2][1], cases[6][1]]);
  } finally {
    await stop(s);
  }
});

test("serve: a body still in WebAssembly memory is read right after the memory grew", async () => {
  const { ServeRequest } = await import("../src/request.ts");
  const mem = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  const text = JSON.stringify({ a: 1, s: "x".repeat(1000) });
  const at = 1234;
  encoder.encodeInto(text, new Uint8Array(mem.buffer, at));
  const len = encoder.encode(text).length;
  const make = () => new ServeRequest("POST", "http://h", "/", "", "", null, mem, at, len);
  const view = new Uint8Array(mem.buffer, at, len);
  const live = make();
  mem.grow(1); // detaches the views made before
  assert.equal(view.length, 0);
  assert.deepEqual(await live.json(), JSON.parse(text));
  const ab = await make().arrayBuffer(); // a copy, never the memory's own buffer
  assert.equal(ab.byteLength, len);
  assert.notEqual(ab, mem.buffer);
  assert.equal(new TextDecoder().decode(ab), text);
  const settled = make();
  settled._settle(); // copied out as the handler returns
  new Uint8Array(mem.buffer, at, 10).fill(0x20); // the memory is reused
  assert.equal(await settled.text(), text);
  assert.equal(new TextDecoder().decode(ab), text);
});

test("serve: a streamed body waits for a client that does not read (backpressure)", async () => {
  let produced = 0;
  const CHUNK = 64 * 1024;
  const TOTAL = 64 * 1024 * 1024;
  const s = start(() => {
    const piece = new Uint8Array(CHUNK).fill(97);
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(ctl) {
          if (produced >= TOTAL) return ctl.close();
          produced += CHUNK;
          ctl.enqueue(piece);
        },
      }, { highWaterMark: 0 }),
    );
  });
  try {
    let received = 0;
    const sock = net.connect({ host: "127.0.0.1", port: s.addr.port });
    sock.on("data", (d: Uint8Array) => (received += d.length));
    sock.on("error", () => {});
    sock.pause();
    sock.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 400));
    // The client reads nothing: what is produced is bounded by the socket
    // buffers and the server's high-water mark, nowhere near 64 MiB
    const stalled = produced;
    assert.ok(
      stalled < 16 * 1024 * 1024,
      `produced ${stalled} bytes for a client that reads nothing`,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(produced - stalled <= 4 * CHUNK, "production goes on while nobody reads");
    // Reading resumes: everything arrives
    sock.resume();
    const deadline = Date.now() + 30_000;
    while (received < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(received > TOTAL, `received ${received}`);
    assert.equal(produced, TOTAL);
    sock.destroy();
  } finally {
    await stop(s);
  }
});

test("serve: a 1 GiB streamed response keeps RSS under 100 MiB", { timeout: 180_000 }, async () => {
  const CHUNK = 256 * 1024;
  const TOTAL = 1024 * 1024 * 1024;
  const s = start(() => {
    let sent = 0;
    const piece = new Uint8Array(CHUNK).fill(120);
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(ctl) {
          if (sent >= TOTAL) return ctl.close();
          sent += CHUNK;
          ctl.enqueue(piece);
        },
      }, { highWaterMark: 0 }),
    );
  });
  try {
    // curl reads it (in its own process): only the server's memory is ours
    const rss0 = process.memoryUsage().rss;
    let maxRss = rss0;
    const timer = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 50);
    const out = await new Promise<string>((resolve, reject) => {
      const curl = spawn("curl", [
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download} %{http_code}",
        `http://127.0.0.1:${s.addr.port}/`,
      ]);
      let text = "";
      curl.stdout.on("data", (d: Uint8Array) => (text += new TextDecoder().decode(d)));
      curl.stderr.on("data", (d: Uint8Array) => (text += new TextDecoder().decode(d)));
      curl.on("error", reject);
      curl.on(
        "close",
        (code) => (code === 0 ? resolve(text) : reject(new Error(`curl: ${code} ${text}`))),
      );
    }).finally(() => clearInterval(timer));
    assert.equal(out, `${TOTAL} 200`);
    const grew = (maxRss - rss0) / (1 << 20);
    if (process.env.SHOW_RSS) console.log("rss0", rss0 >> 20, "max", maxRss >> 20);
    const max = maxRss / (1 << 20);
    assert.ok(max < 100 + rss0 / (1 << 20) && grew < 100, `RSS grew by ${grew.toFixed(1)} MiB`);
  } finally {
    await stop(s);
  }
});

test("serve: a client that goes away aborts the request's signal", async () => {
  let aborted: (reason: unknown) => void = () => {};
  const abortSeen = new Promise<unknown>((r) => (aborted = r));
  let completedResolved = false;
  const s = start((req, info) => {
    info.completed.then(() => (completedResolved = true));
    return new Promise<Response>((resolve) => {
      req.signal.addEventListener("abort", () => {
        aborted(req.signal.reason);
        resolve(new Response("too late"));
      });
    });
  });
  try {
    const c = new Raw(s.addr.port);
    c.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 100));
    c.destroy();
    const reason = await abortSeen;
    assert.ok(reason instanceof Error || reason instanceof DOMException);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(completedResolved, true);
    // The server goes on
    const res = await fetch(`http://127.0.0.1:${s.addr.port}/`, {
      signal: AbortSignal.timeout(100),
    })
      .catch(() => null);
    assert.equal(res, null); // this handler never answers before an abort
  } finally {
    await stop(s);
  }
});

test("serve: handler errors give 500, or onError's response", async () => {
  const errors: unknown[] = [];
  const origError = console.error;
  console.error = () => {};
  const s1 = start((req) => {
    if (req.url.endsWith("/async")) return Promise.reject(new Error("async boom"));
    throw new Error("boom");
  });
  const s2 = start(() => {
    throw new Error("custom");
  }, {
    onError: (e) => {
      errors.push(e);
      return new Response(`handled: ${(e as Error).message}`, { status: 503 });
    },
  });
  try {
    for (const p of ["/sync", "/async"]) {
      const res = await fetch(`http://127.0.0.1:${s1.addr.port}${p}`);
      assert.equal(res.status, 500);
      assert.equal(await res.text(), "Internal Server Error");
    }
    const res = await fetch(`http://127.0.0.1:${s2.addr.port}/`);
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "handled: custom");
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error).message, "custom");
    // Not a Response at all: also a 500
    const s3 = start(() => "oops" as unknown as Response);
    const r3 = await fetch(`http://127.0.0.1:${s3.addr.port}/`);
    assert.equal(r3.status, 500);
    await r3.arrayBuffer();
    await stop(s3);
  } finally {
    console.error = origError;
    await stop(s1);
    await stop(s2);
  }
});

test("serve: shutdown lets a request in progress finish; signal shuts down", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const s = start(async () => {
    await gate;
    return new Response("done");
  });
  const pending = fetch(`http://127.0.0.1:${s.addr.port}/`);
  await new Promise((r) => setTimeout(r, 100));
  let finished = false;
  s.finished.then(() => (finished = true));
  const down = s.shutdown();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(finished, false);
  release();
  const res = await pending;
  assert.equal(await res.text(), "done");
  await down;
  assert.equal(finished, true);
  await assert.rejects(fetch(`http://127.0.0.1:${s.addr.port}/`));

  const ac = new AbortController();
  let listened = 0;
  const s2 = serve({
    port: 0,
    hostname: "127.0.0.1",
    signal: ac.signal,
    onListen: (a) => (listened = a.port),
  }, () => new Response("x"));
  assert.equal(listened, s2.addr.port);
  ac.abort();
  await s2.finished;
});

test("serve: cert/key ask for TLS listeners; bad options throw", () => {
  assert.throws(
    () => serve({ port: 0, cert: "x", onListen() {} }, () => new Response()),
    TypeError,
  );
  assert.throws(
    () => serve({ port: 0 } as ServeOptions, undefined as unknown as ServeHandler),
    TypeError,
  );
});

test("serve: a Hono app runs unchanged on serve(app.fetch)", async () => {
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    c.header("X-Middleware", "ran");
  });
  app.get("/users/:id", (c) => c.json({ id: c.req.param("id"), q: c.req.query("q") ?? null }));
  app.post("/echo", async (c) => c.json({ got: await c.req.json() }, 201));
  app.get("/text", (c) => c.text("plain"));
  app.notFound((c) => c.json({ error: "nope" }, 404));
  const s = start(app.fetch);
  try {
    const base = `http://127.0.0.1:${s.addr.port}`;
    let res = await fetch(`${base}/users/42?q=x`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-middleware"), "ran");
    assert.deepEqual(await res.json(), { id: "42", q: "x" });
    res = await fetch(`${base}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: [1, 2] }),
    });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { got: { a: [1, 2] } });
    res = await fetch(`${base}/text`);
    assert.equal(await res.text(), "plain");
    res = await fetch(`${base}/missing`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: "nope" });
  } finally {
    await stop(s);
  }
});

test("serve: upgradeWebSocket against a real WebSocket client", async () => {
  const events: string[] = [];
  const s = start((req) => {
    if (req.headers.get("upgrade") !== "websocket") {
      assert.throws(() => upgradeWebSocket(req), TypeError);
      return new Response("not a websocket", { status: 400 });
    }
    const { socket, response } = upgradeWebSocket(req, { protocol: "chat" });
    socket.binaryType = "arraybuffer";
    socket.onopen = () => events.push("open");
    socket.addEventListener("message", (e) => {
      const d = (e as MessageEvent).data;
      if (typeof d === "string") {
        if (d === "close") socket.close(4001, "asked");
        else socket.send("echo:" + d);
      } else {
        const b = new Uint8Array(d as ArrayBuffer);
        socket.send(b.map((x) => x + 1));
      }
    });
    socket.onclose = (e) => events.push(`close ${(e as CloseEvent).code}`);
    return response;
  });
  try {
    const url = `ws://127.0.0.1:${s.addr.port}/ws`;
    const plain = await fetch(`http://127.0.0.1:${s.addr.port}/ws`);
    assert.equal(plain.status, 400);
    await plain.arrayBuffer();
    const got: unknown[] = [];
    let closeCode = 0;
    let proto = "";
    if (isDeno) {
      const ws = new WebSocket(url, ["chat"]);
      ws.binaryType = "arraybuffer";
      await new Promise((r, j) => {
        ws.onopen = r;
        ws.onerror = j;
      });
      proto = ws.protocol;
      const closed = new Promise<void>((r) =>
        ws.onclose = (e) => {
          closeCode = e.code;
          r();
        }
      );
      ws.onmessage = (e) => {
        got.push(typeof e.data === "string" ? e.data : Array.from(new Uint8Array(e.data)));
        if (got.length === 2) ws.send("close");
      };
      ws.send("hi");
      ws.send(new Uint8Array([1, 2, 3]));
      await closed;
    } else {
      const ws = new WS(url, ["chat"]);
      await new Promise((r, j) => {
        ws.on("open", r);
        ws.on("error", j);
      });
      proto = ws.protocol;
      const closed = new Promise<void>((r) =>
        ws.on("close", (code: number) => {
          closeCode = code;
          r();
        })
      );
      ws.on("message", (d: Buffer, isBinary: boolean) => {
        got.push(isBinary ? Array.from(d) : d.toString());
        if (got.length === 2) ws.send("close");
      });
      ws.send("hi");
      ws.send(new Uint8Array([1, 2, 3]));
      await closed;
    }
    assert.equal(proto, "chat");
    assert.deepEqual(got, ["echo:hi", [2, 3, 4]]);
    assert.equal(closeCode, 4001);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events, ["open", "close 4001"]);
  } finally {
    await stop(s);
  }
});
