// TLS by the runtime: https:// and wss:// listeners (curl, request(), the
// ws package as client) and https:// / wss:// clients (request(), wsConnect)
// against node:https servers. Certificates are made at test time by openssl.

import { serve } from "../src/serve.ts";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { spawn } from "node:child_process";
import process from "node:process";
import WS, { WebSocketServer } from "ws";
import { makeCerts, run, type TestCerts } from "./tls_certs.ts";
import {
  closeIdleConnections,
  type Connection,
  type EventHandler,
  type HttpMessage,
  Manager,
  MG_EV_CLOSE,
  MG_EV_ERROR,
  MG_EV_HTTP_MSG,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  request,
  type WsMessage,
} from "../mod.ts";

let certs: TestCerts;

before(async () => {
  certs = await makeCerts();
});

after(() => {
  closeIdleConnections();
  certs?.cleanup();
});

function portOf(lsn: Connection): number {
  return Number(lsn.localAddr.split(":").pop());
}

/** Echo of method, uri, body and TLS-ness, or a WebSocket echo on /ws. */
const handler: EventHandler = (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) {
    const hm = data as HttpMessage;
    if (hm.uri === "/ws") {
      c.wsUpgrade(hm);
      return;
    }
    c.replyJson({ method: hm.method, uri: hm.uri, body: hm.text });
  } else if (ev === MG_EV_WS_MSG) {
    const wm = data as WsMessage;
    c.wsSend(wm.data.slice(), wm.op);
  }
};

async function withTlsServer(fn: (port: number, mgr: Manager) => Promise<void>): Promise<void> {
  const mgr = new Manager();
  try {
    const lsn = mgr.listen("https://127.0.0.1:0", handler, {
      tls: { cert: certs.cert, key: new TextEncoder().encode(certs.key) }, // bytes work too
    });
    await fn(portOf(lsn), mgr);
  } finally {
    closeIdleConnections(mgr);
    mgr.close();
  }
}

test("https listener: curl --cacert, by IP and by name", async () => {
  await withTlsServer(async (port) => {
    const out = await run("curl", [
      "-sS",
      "-i",
      "--cacert",
      certs.caFile,
      `https://127.0.0.1:${port}/a?b=1`,
    ]);
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(out.endsWith('{"method":"GET","uri":"/a","body":""}'), out);
    const post = await run("curl", [
      "-sS",
      "--cacert",
      certs.caFile,
      "--resolve",
      `localhost:${port}:127.0.0.1`,
      "-d",
      "hello tls",
      `https://localhost:${port}/p`,
    ]);
    assert.deepEqual(JSON.parse(post), { method: "POST", uri: "/p", body: "hello tls" });
  });
});

test("https listener: failed handshakes and plain HTTP do not stop it", async () => {
  await withTlsServer(async (port) => {
    await assert.rejects(
      run("curl", ["-sS", `https://127.0.0.1:${port}/`]),
      /certificate/i,
    );
    // plain HTTP to the TLS port: no HTTP answer
    await assert.rejects(run("curl", ["-sS", "-m", "10", `http://127.0.0.1:${port}/`]));
    const out = await run("curl", [
      "-sS",
      "--cacert",
      certs.caFile,
      `https://127.0.0.1:${port}/ok`,
    ]);
    assert.equal(out, '{"method":"GET","uri":"/ok","body":""}');
  });
});

test("https listener: keep-alive over TLS with request(), 20 requests", async () => {
  await withTlsServer(async (port, mgr) => {
    for (let i = 0; i < 20; i++) {
      const r = await request(`https://127.0.0.1:${port}/n${i}`, {
        manager: mgr,
        tls: { ca: certs.ca },
        method: "PUT",
        body: `b${i}`,
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json(), { method: "PUT", uri: `/n${i}`, body: `b${i}` });
    }
    // client and server connections of this Manager: the listener, one kept-alive
    // client connection and its accepted peer
    assert.equal(mgr.connections.length, 3);
  });
});

test("https listener without cert/key: a clear error", () => {
  const mgr = new Manager();
  try {
    assert.throws(
      () => mgr.listen("https://127.0.0.1:0", handler),
      /cannot listen on https:\/\/127\.0\.0\.1:0: .*needs the option tls: \{ cert, key \}/,
    );
    assert.throws(
      () => mgr.listen("https://127.0.0.1:0", handler, { tls: { cert: "junk", key: "junk" } }),
      /cannot listen/,
    );
  } finally {
    mgr.close();
  }
});

/** A node:https server answering with its URL and the request body. */
async function withNodeHttps(
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const server = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (d: Uint8Array) => chunks.push(d));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      res.setHeader("X-Seen-Auth", req.headers.authorization ?? "none");
      res.end(JSON.stringify({ url: req.url, body, method: req.method }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections?.();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

test("request() to a node:https server with a private CA", async () => {
  await withNodeHttps(async (port) => {
    const mgr = new Manager();
    try {
      const r = await request(`https://127.0.0.1:${port}/x?y=1`, {
        manager: mgr,
        tls: { ca: certs.ca },
        method: "POST",
        body: new TextEncoder().encode("payload"),
        auth: { user: "ann", pass: "pw" },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json(), { url: "/x?y=1", body: "payload", method: "POST" });
      assert.equal(r.headers.get("x-seen-auth"), "Basic " + btoa("ann:pw"));
      // a CA that did not sign the certificate: refused
      await assert.rejects(
        request(`https://127.0.0.1:${port}/`, {
          manager: mgr,
          tls: { ca: certs.otherCa },
          timeout: 10000,
        }),
        (e: Error) => /failed/.test(e.message) && e.name !== "TimeoutError",
      );
    } finally {
      closeIdleConnections(mgr);
      mgr.close();
    }
  });
});

test("wss listener: echo with the ws package (ca option)", async () => {
  const mgr = new Manager();
  try {
    const lsn = mgr.listen("wss://127.0.0.1:0", handler, {
      tls: { cert: certs.cert, key: certs.key },
    });
    const ws = new WS(`wss://127.0.0.1:${portOf(lsn)}/ws`, { ca: certs.ca });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("open", () => {
        ws.send("one");
        ws.send(new Uint8Array(70000).fill(7));
        ws.send("three");
      });
      ws.on("message", (d: Buffer, isBinary: boolean) => {
        got.push(isBinary ? `bin ${d.length} ${d[69999]}` : d.toString());
        if (got.length === 3) ws.close(1000);
      });
      ws.on("close", () => resolve());
      ws.on("error", reject);
    });
    assert.deepEqual(got, ["one", "bin 70000 7", "three"]);
  } finally {
    mgr.close();
  }
});

test("wsConnect to wss:// (a ws server over node:https)", async () => {
  const server = https.createServer({ cert: certs.cert, key: certs.key });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (s: WS) => s.on("message", (d: Buffer) => s.send("echo:" + d)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const mgr = new Manager();
  try {
    const got = await new Promise<string>((resolve, reject) => {
      mgr.wsConnect(`wss://localhost:${port}/`, (c, ev, data) => {
        if (ev === MG_EV_WS_OPEN) c.wsSend("hi");
        else if (ev === MG_EV_WS_MSG) {
          resolve((data as WsMessage).text);
          c.wsClose();
        } else if (ev === MG_EV_ERROR) reject(new Error(String(data)));
        else if (ev === MG_EV_CLOSE) reject(new Error("closed early"));
      }, { tls: { ca: certs.ca } });
    });
    assert.equal(got, "echo:hi");
  } finally {
    mgr.close();
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections?.();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test("CLI: --listen https://... --cert --key serves TLS", async () => {
  const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  const args = isDeno
    ? ["run", "--allow-net=127.0.0.1", `--allow-read=${certs.dir}`, "mod.ts"]
    : ["dist/src/bin.js"];
  args.push("--listen", "https://127.0.0.1:0", "--cert", certs.certFile, "--key", certs.keyFile);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "", err = "";
      child.stdout?.on("data", (d: Uint8Array) => {
        out += String(d);
        const m = /listening on (https:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.stderr?.on("data", (d: Uint8Array) => err += String(d));
      child.once("exit", (code) => reject(new Error(`CLI exited (${code}): ${out} ${err}`)));
    });
    const body = await run("curl", ["-sS", "--cacert", certs.caFile, url + "/"]);
    assert.equal(body, '{"message":"Hello, World!"}');
  } finally {
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    await exited;
  }
});

test("CLI: --cert without --key is an error", async () => {
  const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  const args = isDeno ? ["run", "-A", "mod.ts"] : ["dist/src/bin.js"];
  args.push("--listen", "https://127.0.0.1:0", "--cert", certs.certFile);
  await assert.rejects(run(process.execPath, args), /--cert and --key go together/);
});

test("serve() with cert and key answers HTTPS (curl --cacert)", async () => {
  const server = serve(
    { port: 0, hostname: "127.0.0.1", cert: certs.cert, key: certs.key, onListen: () => {} },
    (req) => new Response(`secure ${new URL(req.url).pathname}`),
  );
  try {
    const out = await run("curl", [
      "-sS",
      "--cacert",
      certs.caFile,
      `https://127.0.0.1:${server.addr.port}/tls`,
    ]);
    assert.equal(out, "secure /tls");
  } finally {
    await server.shutdown();
  }
});
