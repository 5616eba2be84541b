// Chunked responses and Server-Sent Events (conn.startChunked / chunk,
// conn.startSse / sse) against curl and a real EventSource in headless
// Chromium: event names, ids, retry, multi-line data (LF, CRLF, CR, a
// trailing break), and a reconnection that carries Last-Event-ID. The
// Chromium part is skipped when /usr/bin/chromium is absent. Runs on Deno
// and, compiled by tsc, on Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  type Connection,
  type HttpMessage,
  Manager,
  MG_EV_HTTP_MSG,
  MG_LL_NONE,
  serve,
} from "../mod.ts";

const CHROMIUM = "/usr/bin/chromium";

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn("curl", ["-sS", "--max-time", "20", ...args]);
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    p.stderr.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    p.on("error", reject);
    p.on(
      "close",
      (code) => (code === 0 ? resolve(out) : reject(new Error(`curl ${code}: ${err}`))),
    );
  });
}

function listen(mgr: Manager, fn: (c: Connection, hm: HttpMessage) => void): number {
  const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG) fn(c, data as HttpMessage);
  });
  return Number(lsn.localAddr.split(":").pop());
}

test("sse: chunked responses through curl, sent over time", async () => {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    const port = listen(mgr, (c, hm) => {
      if (hm.uri === "/chunked") {
        c.startChunked(200, { "Content-Type": "text/plain", "X-Test": "1" });
        c.chunk("first,");
        let n = 0;
        const t = setInterval(() => {
          if (!c.isAlive) return clearInterval(t);
          if (++n <= 3) c.chunk(new TextEncoder().encode(`tick${n},`));
          else {
            clearInterval(t);
            c.chunk("");
          }
        }, 20);
      } else {
        c.reply(200, "after\n");
      }
    });
    const head = await curl(["-i", `http://127.0.0.1:${port}/chunked`]);
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/i);
    assert.match(head, /\r\nX-Test: 1\r\n/);
    assert.ok(!/content-length/i.test(head));
    assert.ok(head.endsWith("\r\n\r\nfirst,tick1,tick2,tick3,"), head);
    // keep-alive: the next request on the same connection is answered after the last chunk
    const two = await curl([`http://127.0.0.1:${port}/chunked`, `http://127.0.0.1:${port}/x`]);
    assert.equal(two, "first,tick1,tick2,tick3,after\n");
  } finally {
    mgr.close();
  }
});

test("sse: the event stream format, read by curl", async () => {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    const port = listen(mgr, (c) => {
      c.startSse({ "X-Accel-Buffering": "no" });
      c.sse({ data: "plain" });
      c.sse({ event: "tick", data: "a\nb\r\nc\rd", id: "7", retry: 1500 });
      c.sse({ data: "trailing\n" });
      c.sse({ data: "" });
      assert.throws(() => c.sse({ event: "bad\nname", data: "x" }), TypeError);
      assert.throws(() => c.sse({ id: "1\r", data: "x" }), TypeError);
      assert.throws(() => c.sse({ retry: -1, data: "x" }), RangeError);
      setTimeout(() => {
        c.sse({ data: "later é" });
        c.chunk("");
      }, 30);
    });
    const out = await curl(["-i", `http://127.0.0.1:${port}/`]);
    const [head, body] = out.split("\r\n\r\n");
    assert.match(head, /\r\nContent-Type: text\/event-stream\r\n/);
    assert.match(head, /\r\nCache-Control: no-cache\r\n/);
    assert.match(head, /\r\nX-Accel-Buffering: no\r\n/);
    assert.equal(
      body,
      "data: plain\n\n" +
        "event: tick\nid: 7\nretry: 1500\ndata: a\ndata: b\ndata: c\ndata: d\n\n" +
        "data: trailing\ndata: \n\n" +
        "data: \n\n" +
        "data: later é\n\n",
    );
  } finally {
    mgr.close();
  }
});

test("sse: a ReadableStream body of serve() as an event stream, read by fetch", async () => {
  const enc = new TextEncoder();
  const s = serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        await new Promise((r) => setTimeout(r, 5));
        if (i < 3) ctl.enqueue(enc.encode(`data: ${i++}\n\n`));
        else ctl.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  try {
    const res = await fetch(`http://127.0.0.1:${s.addr.port}/`);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(await res.text(), "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  } finally {
    await s.shutdown();
  }
});

// ---- Chromium ----------------------------------------------------------------------

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>wasmgoose SSE test</title></head>
<body><script>
"use strict";
const got = [];
function report(kind, value) {
  return fetch("/report", { method: "POST", body: JSON.stringify({ kind, value }) });
}
const es = new EventSource("/events");
function note(e) {
  got.push({ type: e.type, data: e.data, id: e.lastEventId });
  if (e.data === "end") {
    es.close();
    report("events", got);
  }
}
es.onmessage = note;
es.addEventListener("tick", note);
window.addEventListener("error", (e) => report("error", String(e.message)));
</script></body></html>`;

test(
  "sse: a real EventSource in headless Chromium, with a reconnection",
  { timeout: 60_000 },
  async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} not found (apt-get install chromium)`);
      return;
    }
    const mgr = new Manager();
    mgr.logLevel = MG_LL_NONE;
    const profile = mkdtempSync(join(tmpdir(), "wasmgoose-sse-"));
    let lastEventIds: string[] = [];
    let result: (v: { kind: string; value: unknown }) => void = () => {};
    const reported = new Promise<{ kind: string; value: unknown }>((r) => (result = r));
    let connects = 0;
    const port = listen(mgr, (c, hm) => {
      if (hm.uri === "/") {
        c.reply(200, PAGE, { "Content-Type": "text/html; charset=utf-8" });
      } else if (hm.uri === "/events") {
        connects++;
        lastEventIds.push(hm.header("last-event-id") ?? "");
        c.startSse();
        if (connects === 1) {
          c.sse({ data: "one", id: "1", retry: 50 });
          c.sse({ event: "tick", data: "multi\nline\r\ndata\rhere", id: "2" });
          c.sse({ data: "no id" }); // keeps the last id
          c.chunk(""); // the stream ends: EventSource reconnects after `retry`
        } else {
          c.sse({ data: "resumed", id: "3" });
          setTimeout(() => c.isAlive && c.sse({ data: "end" }), 20);
        }
      } else if (hm.uri === "/report") {
        result(JSON.parse(hm.text));
        c.reply(204);
      } else {
        c.reply(404, "not found\n");
      }
    });
    const proc = spawn(CHROMIUM, [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      `http://127.0.0.1:${port}/`,
    ], { stdio: ["ignore", "ignore", "ignore"] });
    const exited = new Promise<void>((r) => {
      proc.once("exit", () => r());
      proc.once("error", () => r());
    });
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reported,
        new Promise<never>((_, j) => {
          timer = setTimeout(() => j(new Error("no report from the page in 30 s")), 30_000);
        }),
      ]);
      clearTimeout(timer);
      assert.equal(r.kind, "events", JSON.stringify(r.value));
      assert.deepEqual(r.value, [
        { type: "message", data: "one", id: "1" },
        { type: "tick", data: "multi\nline\ndata\nhere", id: "2" },
        { type: "message", data: "no id", id: "2" },
        { type: "message", data: "resumed", id: "3" },
        { type: "message", data: "end", id: "3" },
      ]);
      assert.equal(connects, 2);
      assert.deepEqual(lastEventIds, ["", "2"]);
    } finally {
      if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
        process.kill(proc.pid, "SIGTERM");
        const kill = setTimeout(() => {
          if (proc.exitCode === null && proc.signalCode === null) {
            process.kill(proc.pid!, "SIGKILL");
          }
        }, 5000);
        await exited;
        clearTimeout(kill);
      }
      mgr.close();
      lastEventIds = [];
      for (let i = 0; i < 100; i++) {
        try {
          rmSync(profile, { recursive: true, force: true });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  },
);
