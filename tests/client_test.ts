// request(): the HTTP client against node:http, raw sockets and nginx
// (started by the test as a child process with a temp config).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { closeIdleConnections, Manager, request } from "../mod.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A byte checksum (order-sensitive) to compare bodies. */
function sum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s = (s * 31 + b[i]) >>> 0;
  return s;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: http.Server | net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  await new Promise<void>((r) => server.close(() => r()));
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await closeServer(s);
  return port;
}

describe("request() against node:http", () => {
  let server: http.Server;
  let base: string;
  const sockets = new Set<net.Socket>();
  const mgr = new Manager();

  before(async () => {
    server = http.createServer((req, res) => {
      sockets.add(req.socket);
      const chunks: Uint8Array[] = [];
      req.on("data", (d: Uint8Array) => chunks.push(d));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const u = new URL(req.url ?? "/", "http://x");
        if (u.pathname === "/echo") {
          res.setHeader("Content-Type", "application/json");
          res.setHeader("X-Multi", ["a", "b"]);
          res.end(JSON.stringify({
            method: req.method,
            url: req.url,
            body: body.toString(),
            len: req.headers["content-length"] ?? null,
            auth: req.headers.authorization ?? null,
            custom: req.headers["x-custom"] ?? null,
            host: req.headers.host,
          }));
        } else if (u.pathname === "/chunked") {
          const parts = Number(u.searchParams.get("n") ?? "5");
          res.writeHead(200, { "Content-Type": "text/plain" });
          let i = 0;
          const next = () => {
            if (i === parts) return res.end();
            res.write(`chunk ${i++};`);
            setTimeout(next, 1);
          };
          next();
        } else if (u.pathname === "/big") {
          const n = Number(u.searchParams.get("n"));
          res.setHeader("Content-Length", n);
          res.end(pattern(n, 7));
        } else if (u.pathname === "/redirect") {
          res.writeHead(302, { Location: "/echo" });
          res.end("moved");
        } else if (u.pathname === "/head") {
          res.setHeader("Content-Length", 100);
          res.end(req.method === "HEAD" ? undefined : "x".repeat(100));
        } else if (u.pathname === "/slow") {
          setTimeout(() => res.end("late"), 3000);
        } else {
          res.statusCode = 404;
          res.end("nope");
        }
      });
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });

  after(async () => {
    closeIdleConnections(mgr);
    mgr.close();
    await closeServer(server);
  });

  test("GET, POST with headers and body, status text, multi-value headers", async () => {
    const r = await request(base + "/echo?q=1", { manager: mgr });
    assert.equal(r.status, 200);
    assert.equal(r.statusText, "OK");
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(r.headers.get("x-multi"), "a, b");
    const j = r.json() as Record<string, unknown>;
    assert.equal(j.method, "GET");
    assert.equal(j.url, "/echo?q=1");
    assert.equal(j.host, new URL(base).host);
    assert.equal(j.len, null);
    const p = await request(base + "/echo", {
      manager: mgr,
      method: "POST",
      headers: { "X-Custom": "yes", "Content-Type": "text/plain" },
      body: "héllo",
    });
    const pj = p.json() as Record<string, unknown>;
    assert.deepEqual([pj.method, pj.body, pj.len, pj.custom], ["POST", "héllo", "6", "yes"]);
    const hd = await request(base + "/echo", {
      manager: mgr,
      headers: new Headers({ "X-Custom": "from Headers" }),
    });
    assert.equal((hd.json() as { custom: string }).custom, "from Headers");
    const nf = await request(base + "/missing", { manager: mgr });
    assert.equal(nf.status, 404);
    assert.equal(nf.statusText, "Not Found");
    assert.equal(nf.text(), "nope");
  });

  test("chunked responses, a 2 MiB body, and keep-alive: one socket", async () => {
    sockets.clear();
    const c = await request(base + "/chunked?n=20", { manager: mgr });
    assert.equal(c.headers.get("transfer-encoding"), "chunked");
    assert.equal(c.text(), Array.from({ length: 20 }, (_, i) => `chunk ${i};`).join(""));
    const big = await request(base + "/big?n=2097152", { manager: mgr });
    assert.equal(big.body.length, 2097152);
    assert.equal(sum(big.body), sum(pattern(2097152, 7)));
    for (let i = 0; i < 10; i++) {
      assert.equal((await request(base + "/echo", { manager: mgr })).status, 200);
    }
    assert.equal(sockets.size, 1, "every request went over one kept-alive connection");
    // keepAlive: false asks the server to close, and opens a new connection
    const r = await request(base + "/echo", { manager: mgr, keepAlive: false });
    assert.equal(r.status, 200);
    assert.equal(sockets.size, 2);
  });

  test("concurrent requests use parallel connections", async () => {
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => request(`${base}/echo?i=${i}`, { manager: mgr })),
    );
    rs.forEach((r, i) => assert.equal((r.json() as { url: string }).url, `/echo?i=${i}`));
  });

  test("redirects are returned, not followed; HEAD has no body", async () => {
    const r = await request(base + "/redirect", { manager: mgr });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get("location"), "/echo");
    assert.equal(r.text(), "moved");
    const h = await request(base + "/head", { manager: mgr, method: "HEAD" });
    assert.equal(h.status, 200);
    assert.equal(h.headers.get("content-length"), "100");
    assert.equal(h.body.length, 0);
    // the same connection goes on with a body
    const g = await request(base + "/head", { manager: mgr });
    assert.equal(g.text(), "x".repeat(100));
  });

  test("basic auth from the URL and from opts.auth", async () => {
    const u = new URL(base + "/echo");
    u.username = "ann";
    u.password = "p:w";
    const r = await request(u.href, { manager: mgr });
    assert.equal((r.json() as { auth: string }).auth, "Basic " + btoa("ann:p:w"));
    const r2 = await request(base + "/echo", { manager: mgr, auth: { user: "bob", pass: "x" } });
    assert.equal((r2.json() as { auth: string }).auth, "Basic " + btoa("bob:x"));
  });

  test("timeout and abort", async () => {
    await assert.rejects(
      request(base + "/slow", { manager: mgr, timeout: 200 }),
      (e: Error) => e.name === "TimeoutError" && /timed out after 200 ms/.test(e.message),
    );
    const ac = new AbortController();
    const p = request(base + "/slow", { manager: mgr, signal: ac.signal });
    setTimeout(() => ac.abort(new Error("user abort")), 50);
    await assert.rejects(p, /user abort/);
    const pre = AbortSignal.abort(new Error("already"));
    await assert.rejects(request(base + "/echo", { manager: mgr, signal: pre }), /already/);
    // the Manager keeps working
    assert.equal((await request(base + "/echo", { manager: mgr })).status, 200);
  });

  test("bad arguments: TypeError", async () => {
    await assert.rejects(request("ftp://x/", { manager: mgr }), TypeError);
    await assert.rejects(request("not a url", { manager: mgr }), TypeError);
    await assert.rejects(request(base, { manager: mgr, method: "G T" }), TypeError);
    await assert.rejects(
      request(base, { manager: mgr, headers: { "X-A": "a\r\nInjected: 1" } }),
      TypeError,
    );
  });
});

describe("request() failures", () => {
  const mgr = new Manager();
  after(() => {
    closeIdleConnections(mgr);
    mgr.close();
  });

  /** A raw TCP server that answers each connection with `fn`. */
  async function raw(fn: (s: net.Socket) => void, body: () => Promise<void>): Promise<void> {
    const server = net.createServer(fn);
    const port = await listen(server);
    try {
      (globalThis as { __port?: number }).__port = port;
      await body();
    } finally {
      await closeServer(server);
    }
  }
  const rawUrl = () => `http://127.0.0.1:${(globalThis as { __port?: number }).__port}/`;

  test("connection refused", async () => {
    const port = await freePort();
    await assert.rejects(
      request(`http://127.0.0.1:${port}/`, { manager: mgr }),
      (e: Error) => /request to http:\/\/127\.0\.0\.1:\d+ failed: .*refused/i.test(e.message),
    );
  });

  test("a body framed by the close", async () => {
    await raw((s) => {
      s.once("data", () => s.end("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the end"));
    }, async () => {
      const r = await request(rawUrl(), { manager: mgr });
      assert.equal(r.text(), "until the end");
      assert.equal(r.headers.get("x-a"), "1");
    });
  });

  test("interim responses (100, 103) are skipped", async () => {
    await raw((s) => {
      s.once("data", () => {
        s.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
        setTimeout(() => s.end("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"), 20);
      });
    }, async () => {
      const r = await request(rawUrl(), { manager: mgr });
      assert.equal(r.status, 201);
      assert.equal(r.text(), "ok");
    });
  });

  test("malformed response, response too large, closed before the response", async () => {
    await raw((s) => s.once("data", () => s.end("garbage\r\n\r\n")), async () => {
      await assert.rejects(request(rawUrl(), { manager: mgr }), /failed: malformed response/);
    });
    await raw((s) => {
      s.once("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\nxx"));
    }, async () => {
      await assert.rejects(request(rawUrl(), { manager: mgr }), /failed: response too large/);
    });
    await raw((s) => s.once("data", () => s.end()), async () => {
      await assert.rejects(
        request(rawUrl(), { manager: mgr }),
        /failed: connection closed before the response/,
      );
    });
  });

  test("an idle connection closed by the server: the next request opens another", async () => {
    let conns = 0;
    await raw((s) => {
      conns++;
      s.once("data", () => {
        s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        setTimeout(() => s.end(), 50); // closes the kept-alive connection soon
      });
    }, async () => {
      assert.equal((await request(rawUrl(), { manager: mgr })).text(), "ok");
      await sleep(300);
      assert.equal((await request(rawUrl(), { manager: mgr })).text(), "ok");
      assert.equal(conns, 2);
    });
  });
});

describe("request() against nginx", () => {
  let dir = "";
  let nginx: ChildProcess | undefined;
  let base = "";
  const big = pattern(1500000, 3);
  const text = "the quick brown fox jumps over the lazy dog\n".repeat(3000);
  const mgr = new Manager();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wasmgoose-nginx-"));
    mkdirSync(join(dir, "www"));
    mkdirSync(join(dir, "tmp"));
    writeFileSync(join(dir, "www", "big.bin"), big);
    writeFileSync(join(dir, "www", "text.txt"), text);
    const port = await freePort();
    const t = join(dir, "tmp");
    writeFileSync(
      join(dir, "nginx.conf"),
      `master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${t}/body; proxy_temp_path ${t}/proxy;
  fastcgi_temp_path ${t}/fcgi; uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;
  default_type application/octet-stream;
  types { text/plain txt; }
  keepalive_requests 1000;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    gzip on; gzip_min_length 1; gzip_types text/plain;
    location = /conn { default_type text/plain; return 200 "$connection $connection_requests"; }
  }
}
`,
    );
    nginx = spawn("nginx", [
      "-p",
      dir,
      "-e",
      `${dir}/error.log`,
      "-c",
      `${dir}/nginx.conf`,
      "-g",
      "daemon off;",
    ], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    nginx.stderr?.on("data", (d: Uint8Array) => stderr += String(d));
    base = `http://127.0.0.1:${port}`;
    for (let i = 0;; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, "127.0.0.1", () => {
          s.destroy();
          resolve(true);
        });
        s.on("error", () => resolve(false));
      });
      if (ok) break;
      if (i > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${stderr}`);
      await sleep(50);
    }
  });

  after(async () => {
    closeIdleConnections(mgr);
    mgr.close();
    if (nginx !== undefined && nginx.exitCode === null) {
      const exited = new Promise<void>((r) => nginx?.once("exit", () => r()));
      nginx.kill("SIGTERM");
      await exited;
    }
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("a large file with Content-Length", async () => {
    const r = await request(base + "/big.bin", { manager: mgr });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-length"), String(big.length));
    assert.equal(r.body.length, big.length);
    assert.equal(sum(r.body), sum(big));
  });

  test("a chunked (gzip) response", async () => {
    const r = await request(base + "/text.txt", {
      manager: mgr,
      headers: { "Accept-Encoding": "gzip" },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-encoding"), "gzip");
    assert.equal(r.headers.get("transfer-encoding"), "chunked");
    assert.equal(r.headers.get("content-length"), null);
    assert.equal(new TextDecoder().decode(gunzipSync(r.body)), text);
  });

  test("keep-alive: one nginx connection for sequential requests; 404s", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push((await request(base + "/conn", { manager: mgr })).text());
    }
    const ids = new Set(seen.map((s) => s.split(" ")[0]));
    assert.equal(ids.size, 1, seen.join(" | "));
    const counts = seen.map((s) => Number(s.split(" ")[1]));
    for (let i = 1; i < counts.length; i++) assert.equal(counts[i], counts[i - 1] + 1);
    const nf = await request(base + "/none", { manager: mgr });
    assert.equal(nf.status, 404);
    assert.match(nf.text(), /nginx/);
    const h = await request(base + "/big.bin", { manager: mgr, method: "HEAD" });
    assert.equal(h.body.length, 0);
    assert.equal(h.headers.get("content-length"), String(big.length));
    const after = (await request(base + "/conn", { manager: mgr })).text();
    assert.equal(after.split(" ")[0], seen[0].split(" ")[0]);
  });
});
