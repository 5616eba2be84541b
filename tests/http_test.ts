// HTTP server tests: real clients (fetch, curl, raw sockets) against a Manager.
// Only node:test and node:assert, so this file runs on Deno (`deno test -A
// tests/`) and, compiled by tsc, on Node (`node --test dist-test/tests/`).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Raw } from "./raw_client.ts";
import { execFile, spawn } from "node:child_process";
import {
  type Connection,
  type EventHandler,
  type HttpMessage,
  Manager,
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_HTTP_MSG,
} from "../mod.ts";

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

interface Server {
  mgr: Manager;
  port: number;
  url: string;
}

/** A Manager listening on 127.0.0.1 with a random port. */
function serve(handler: EventHandler, events?: number[]): Server {
  const mgr = new Manager();
  const lsn = mgr.listen(
    "http://127.0.0.1:0",
    handler,
    events ? { events } : undefined,
  );
  const port = Number(lsn.localAddr.split(":").pop());
  assert.ok(port > 0, `listener has a real port: ${lsn.localAddr}`);
  return { mgr, port, url: `http://127.0.0.1:${port}` };
}

/** Runs `fn` with a server, closing the server afterwards. */
async function withServer(
  handler: EventHandler,
  fn: (s: Server) => Promise<void>,
  events?: number[],
): Promise<void> {
  const s = serve(handler, events);
  try {
    await fn(s);
  } finally {
    s.mgr.close();
  }
}

/** Hello JSON on "/", echo of method/uri/body elsewhere. */
const echo: EventHandler = (c, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG) return;
  const hm = data as HttpMessage;
  if (hm.uri === "/") {
    c.replyJson({ message: "Hello, World!" });
  } else {
    c.replyJson({
      method: hm.method,
      uri: hm.uri,
      query: hm.query,
      body: hm.text,
      q: hm.queryVar("q") ?? null,
      type: hm.header("content-type") ?? null,
    });
  }
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` with console.error silenced; returns what was logged. */
async function quietly(fn: () => void | Promise<void>): Promise<string[]> {
  const logged: string[] = [];
  const orig = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(args.map(String).join(" "));
  };
  try {
    await fn();
  } finally {
    console.error = orig;
  }
  return logged;
}

// ---- fetch, curl ----------------------------------------------------------------

test("GET / with fetch: hello JSON", async () => {
  await withServer(echo, async ({ url }) => {
    const r = await fetch(url + "/");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.deepEqual(await r.json(), { message: "Hello, World!" });
  });
});

test("POST with a body, query variables", async () => {
  await withServer(echo, async ({ url }) => {
    const r = await fetch(url + "/echo?q=hello+w%C3%B6rld&x=1", {
      method: "POST",
      body: "ünïcode body",
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), {
      method: "POST",
      uri: "/echo",
      query: "q=hello+w%C3%B6rld&x=1",
      body: "ünïcode body",
      q: "hello wörld",
      type: "text/plain; charset=utf-8",
    });
  });
});

test("HEAD: headers without a body", async () => {
  await withServer(echo, async ({ url }) => {
    const r = await fetch(url + "/", { method: "HEAD" });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-length"), "27");
    assert.equal(await r.text(), "");
  });
});

test("curl -s -i", async () => {
  await withServer(echo, async ({ url }) => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile("curl", ["-s", "-i", url + "/"], (err, stdout) => {
        if (err) reject(err);
        else resolve(stdout);
      });
    });
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(out, /\r\nContent-Type: application\/json\r\n/i);
    assert.ok(out.endsWith('\r\n\r\n{"message":"Hello, World!"}'), out);
  });
});

// ---- raw sockets ------------------------------------------------------------------

const uriReply: EventHandler = (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) c.reply(200, (data as HttpMessage).uri);
};

test("three pipelined requests: three responses in order", async () => {
  await withServer(uriReply, async ({ port }) => {
    const raw = new Raw(port);
    raw.write(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /b HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    const rs = await raw.waitResponses(3);
    assert.deepEqual(rs.map((r) => r.body), ["/a", "/b", "/c"]);
    assert.ok(!raw.closed);
    raw.destroy();
  });
});

test("a late answer to the first of three pipelined requests keeps the order", async () => {
  const handler: EventHandler = (c, ev, data) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const uri = (data as HttpMessage).uri;
    if (uri === "/slow") setTimeout(() => c.reply(200, uri), 30);
    else c.reply(200, uri);
  };
  await withServer(handler, async ({ port }) => {
    const raw = new Raw(port);
    raw.write(
      "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /b HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    const rs = await raw.waitResponses(3);
    assert.deepEqual(rs.map((r) => r.body), ["/slow", "/b", "/c"]);
    raw.destroy();
  });
});

test("a request split into 1-byte writes", async () => {
  await withServer(uriReply, async ({ port }) => {
    const raw = new Raw(port);
    const req = "GET /split HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const ch of req) {
      raw.write(ch);
      await new Promise<void>((r) => setImmediate(r));
    }
    const rs = await raw.waitResponses(1);
    assert.equal(rs[0].status, 200);
    assert.equal(rs[0].body, "/split");
    raw.destroy();
  });
});

test("chunked request body", async () => {
  await withServer(echo, async ({ port }) => {
    const raw = new Raw(port);
    raw.write(
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    const rs = await raw.waitResponses(1);
    assert.equal(rs[0].status, 200);
    assert.equal(JSON.parse(rs[0].body).body, "hello world");
    raw.destroy();
  });
});

test("Expect: 100-continue", async () => {
  await withServer(echo, async ({ port }) => {
    const raw = new Raw(port);
    raw.write(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    await raw.until(() => raw.buf.startsWith("HTTP/1.1 100 Continue\r\n\r\n"), "100 Continue");
    raw.write("abcde");
    const rs = await raw.waitResponses(2);
    assert.equal(rs[0].status, 100);
    assert.equal(rs[1].status, 200);
    assert.equal(JSON.parse(rs[1].body).body, "abcde");
    raw.destroy();
  });
});

test("malformed request: 400 and the socket closes", async () => {
  await withServer(echo, async ({ port }) => {
    const raw = new Raw(port);
    raw.write("THIS IS NOT HTTP\r\n\r\n");
    const rs = await raw.waitResponses(1);
    assert.equal(rs[0].status, 400);
    await raw.waitClose();
  });
});

test("20 KiB of headers: 431", async () => {
  await withServer(echo, async ({ port }) => {
    const raw = new Raw(port);
    raw.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`);
    const rs = await raw.waitResponses(1);
    assert.equal(rs[0].status, 431);
    await raw.waitClose();
  });
});

test("Content-Length over 3 MiB: 413", async () => {
  await withServer(echo, async ({ port }) => {
    const raw = new Raw(port);
    raw.write("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n");
    const rs = await raw.waitResponses(1);
    assert.equal(rs[0].status, 413);
    await raw.waitClose();
  });
});

test("keep-alive: two requests on one socket", async () => {
  await withServer(uriReply, async ({ port }) => {
    const raw = new Raw(port);
    raw.write("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    await raw.waitResponses(1);
    raw.write("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
    const rs = await raw.waitResponses(2);
    assert.deepEqual(rs.map((r) => r.body), ["/one", "/two"]);
    await sleep(20);
    assert.ok(!raw.closed, "the socket stays open");
    raw.destroy();
  });
});

test("Connection: close: the server closes after the response", async () => {
  await withServer(uriReply, async ({ port }) => {
    const raw = new Raw(port);
    raw.write("GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const rs = await raw.waitResponses(1);
    assert.equal(rs[0].body, "/bye");
    await raw.waitClose();
  });
});

// ---- the API ------------------------------------------------------------------------

test("reply() throws TypeError on CR/LF in a header", async () => {
  const errors: unknown[] = [];
  const handler: EventHandler = (c, ev) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const bad: Record<string, string>[] = [
      { "X-Bad": "a\r\nInjected: yes" },
      { "X-Bad\n": "v" },
      { "Bad Name": "v" },
      { "X-Nul": "a\0b" },
    ];
    for (const h of bad) {
      try {
        c.reply(200, "x", h);
      } catch (e) {
        errors.push(e);
      }
    }
    c.reply(200, "fine", { "X-Good": "yes" });
  };
  await withServer(handler, async ({ url }) => {
    const r = await fetch(url + "/");
    assert.equal(await r.text(), "fine");
    assert.equal(r.headers.get("x-good"), "yes");
    assert.equal(r.headers.get("injected"), null);
    assert.equal(errors.length, 4);
    for (const e of errors) assert.ok(e instanceof TypeError);
  });
});

test("a throwing handler: 500, and the next request works", async () => {
  const handler: EventHandler = (c, ev, data) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    if ((data as HttpMessage).uri === "/boom") throw new Error("boom");
    c.reply(200, "ok");
  };
  await withServer(handler, async ({ port, url }) => {
    const logged = await quietly(async () => {
      const raw = new Raw(port);
      raw.write("GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /fine HTTP/1.1\r\nHost: x\r\n\r\n");
      const rs = await raw.waitResponses(2);
      assert.equal(rs[0].status, 500);
      assert.equal(rs[1].status, 200);
      assert.equal(rs[1].body, "ok");
      raw.destroy();
    });
    assert.ok(logged.some((l) => l.includes("boom")), "the error was logged");
    const r = await fetch(url + "/again");
    assert.equal(await r.text(), "ok");
  });
});

test("headers(): every pair in order, UTF-8 values, empty values, spacing trimmed", async () => {
  const handler: EventHandler = (c, ev, data) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    c.replyJson((data as HttpMessage).headers());
  };
  await withServer(handler, async ({ port }) => {
    const many = Array.from({ length: 20 }, (_, i) => [`X-H${i}`, "v".repeat(i * 7)]);
    const cases: Array<Array<[string, string]>> = [
      [["Host", "x"]],
      [["Host", "x"], ["X-City", "Zürich"], ["X-Empty", ""], ["Accept", "*/*"]],
      [["X-Empty", ""], ["Host", "x"], ["X-Last", ""]],
      many as Array<[string, string]>,
    ];
    for (const pairs of cases) {
      const raw = new Raw(port);
      const head = pairs.map(([k, v]) => `${k}:  ${v} \r\n`).join("");
      raw.write(new TextEncoder().encode(`GET / HTTP/1.1\r\n${head}\r\n`));
      const [r] = await raw.waitResponses(1);
      // The raw client reads latin1: decode the body's UTF-8 back
      const body = new TextDecoder().decode(Uint8Array.from(r.body, (ch) => ch.charCodeAt(0)));
      assert.deepEqual(JSON.parse(body), pairs);
      raw.destroy();
    }
  });
});

test("HttpMessage is invalid after the callback", async () => {
  let kept: HttpMessage | undefined;
  const handler: EventHandler = (c, ev, data) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    kept = data as HttpMessage;
    c.reply(200, kept.header("HOST") ?? "");
  };
  await withServer(handler, async ({ url }) => {
    const r = await fetch(url + "/");
    assert.equal(await r.text(), `127.0.0.1:${new URL(url).port}`);
    assert.throws(() => kept!.uri, /after its event callback/);
  });
});

test("timers: once, repeat, cancel", async () => {
  const mgr = new Manager();
  try {
    let once = 0, rep = 0, cancelled = 0;
    const t1 = mgr.timerAdd(5, () => once++);
    const t2 = mgr.timerAdd(5, () => rep++, { repeat: true });
    const t3 = mgr.timerAdd(5, () => cancelled++);
    t3.cancel();
    assert.equal(t3.active, false);
    await sleep(60);
    assert.equal(once, 1);
    assert.equal(t1.active, false);
    assert.ok(rep >= 3, `repeat fired ${rep} times`);
    assert.equal(cancelled, 0);
    t2.cancel();
    const n = rep;
    await sleep(20);
    assert.equal(rep, n, "a cancelled timer does not fire");
    let now = 0;
    mgr.timerAdd(10_000, () => now++, { runNow: true });
    await sleep(10);
    assert.equal(now, 1, "runNow fires right away");
  } finally {
    mgr.close();
  }
});

test("mgr.connections counts live connections", async () => {
  const closed: number[] = [];
  const handler: EventHandler = (c, ev) => {
    if (ev === MG_EV_HTTP_MSG) c.reply(200, "ok");
    if (ev === MG_EV_CLOSE) closed.push(c.id);
  };
  await withServer(handler, async ({ mgr, port }) => {
    assert.equal(mgr.connections.length, 1);
    const a = new Raw(port), b = new Raw(port);
    a.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    b.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await a.waitResponses(1);
    await b.waitResponses(1);
    assert.equal(mgr.connections.length, 3);
    const conns: Connection[] = mgr.connections.filter((c) => !c.isListening);
    assert.equal(conns.length, 2);
    for (const c of conns) assert.match(c.remoteAddr, /^127\.0\.0\.1:\d+$/);
    a.destroy();
    b.destroy();
    const deadline = Date.now() + 2000;
    while (mgr.connections.length > 1 && Date.now() < deadline) await sleep(5);
    assert.equal(mgr.connections.length, 1);
    assert.equal(closed.length, 2);
    assert.equal(conns[0].isAlive, false);
    assert.throws(() => conns[0].reply(200), /connection closed/);
    assert.equal(conns[0].send("x"), false);
  });
});

test("events option: only the requested events reach the handler", async () => {
  const seen = new Set<number>();
  const handler: EventHandler = (c, ev) => {
    seen.add(ev);
    if (ev === MG_EV_HTTP_MSG) c.reply(200, "ok");
  };
  await withServer(handler, async ({ url, mgr }) => {
    const r = await fetch(url + "/", { headers: { Connection: "close" } });
    assert.equal(await r.text(), "ok");
    const deadline = Date.now() + 2000;
    while (mgr.connections.length > 1 && Date.now() < deadline) await sleep(5);
    assert.equal(mgr.connections.length, 1, "closed connections are forgotten");
    assert.deepEqual([...seen], [MG_EV_HTTP_MSG]);
  }, [MG_EV_HTTP_MSG]);
});

test("listen on a busy port throws", async () => {
  const a = serve(echo);
  const mgr = new Manager();
  try {
    const logged = await quietly(() => {
      assert.throws(() => mgr.listen(`http://127.0.0.1:${a.port}`, echo), /cannot listen/);
    });
    assert.ok(logged.some((l) => l.includes("cannot listen")), "C logged the error");
  } finally {
    mgr.close();
    a.mgr.close();
  }
});

test("run() resolves on close()", async () => {
  const mgr = new Manager();
  mgr.listen("http://127.0.0.1:0", echo);
  setTimeout(() => mgr.close(), 5);
  await mgr.run();
  assert.equal(mgr.closed, true);
});

// ---- the CLI ------------------------------------------------------------------------

test("CLI: hello JSON and 404", async () => {
  const proc = (globalThis as unknown as { process: { execPath: string } }).process;
  const args = isDeno
    ? ["run", "-A", new URL("../mod.ts", import.meta.url).pathname]
    : [new URL("../src/bin.js", import.meta.url).pathname];
  const child = spawn(proc.execPath, [...args, "--listen", "http://127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      const t = setTimeout(() => reject(new Error(`CLI did not start: ${out}`)), 10_000);
      child.stdout!.on("data", (d: Uint8Array) => {
        out += new TextDecoder().decode(d);
        const m = /wasmgoose listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
      child.on("exit", () => reject(new Error(`CLI exited: ${out}`)));
    });
    const r = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(await r.text(), '{"message":"Hello, World!"}');
    const r2 = await fetch(`http://127.0.0.1:${port}/nope`);
    assert.equal(r2.status, 404);
    assert.deepEqual(await r2.json(), { error: "Not Found" });
  } finally {
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.kill("SIGTERM");
    const code = await exited;
    // Deno's node:child_process reports the signal it sent (code null) even
    // when the child handled it and exited with 0.
    if (!(isDeno && code === null)) assert.equal(code, 0);
  }
});

// ---- more addresses, the client side ------------------------------------------------

test("IPv6 listener", async (t) => {
  const mgr = new Manager();
  try {
    let lsn: Connection;
    try {
      lsn = mgr.listen("http://[::1]:0", echo);
    } catch {
      t.skip("no IPv6 loopback");
      return;
    }
    assert.match(lsn.localAddr, /^\[::1\]:\d+$/);
    const r = await fetch(`http://${lsn.localAddr}/`);
    assert.deepEqual(await r.json(), { message: "Hello, World!" });
  } finally {
    mgr.close();
  }
});

test("HTTP client: connect, request, response", async () => {
  await withServer(echo, async ({ mgr, port }) => {
    const got = await new Promise<{ status: number; body: string; local: string }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no response")), 3000);
        mgr.connect(`http://127.0.0.1:${port}`, (c, ev, data) => {
          if (ev === MG_EV_CONNECT) {
            c.send(`GET /client?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
          } else if (ev === MG_EV_HTTP_MSG) {
            const hm = data as HttpMessage;
            clearTimeout(timer);
            resolve({ status: hm.status(), body: hm.text, local: c.localAddr });
            c.close();
          } else if (ev === MG_EV_ERROR) {
            clearTimeout(timer);
            reject(new Error(String(data)));
          }
        });
      },
    );
    assert.equal(got.status, 200);
    assert.equal(JSON.parse(got.body).uri, "/client");
    assert.match(got.local, /^127\.0\.0\.1:\d+$/);
  });
});

test("connect to a closed port: MG_EV_ERROR then MG_EV_CLOSE", async () => {
  const probe = serve(echo);
  const port = probe.port;
  probe.mgr.close();
  const mgr = new Manager();
  try {
    const events = await new Promise<number[]>((resolve) => {
      const seen: number[] = [];
      mgr.connect(`tcp://127.0.0.1:${port}`, (_c, ev) => {
        if (ev === MG_EV_ERROR || ev === MG_EV_CLOSE || ev === MG_EV_CONNECT) seen.push(ev);
        if (ev === MG_EV_CLOSE) resolve(seen);
      });
    });
    assert.deepEqual(events, [MG_EV_ERROR, MG_EV_CLOSE]);
    assert.equal(mgr.connections.length, 0);
  } finally {
    mgr.close();
  }
});
