// Raw TCP and UDP (`tcp://`, `udp://` with plain listen/connect and the
// user's handler, conn.recv / conn.consume), connecting by host name
// (localhost, [::1]) and conn.resolve, against node:net, node:dgram and
// node:http peers (and socat when installed). Runs on Deno and (compiled by tsc) on Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as dgram from "node:dgram";
import * as http from "node:http";
import * as dns from "node:dns";
import * as os from "node:os";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { Buffer } from "node:buffer";
import {
  type Connection,
  type HttpMessage,
  Manager,
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_HTTP_MSG,
  MG_EV_READ,
  MG_EV_RESOLVE,
  MG_LL_NONE,
} from "../mod.ts";

const TIMEOUT_MS = 10_000;

/** Resolves once `cond()` holds; rejects after TIMEOUT_MS with `what`. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + TIMEOUT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The bound address of a udp:// listener. Deno and Node bind inside listen();
 * Bun's node:dgram binds asynchronously, so there the port is known a tick later.
 */
async function udpBound(lsn: Connection): Promise<string> {
  if (process.versions.bun !== undefined) {
    await waitFor(() => !lsn.localAddr.endsWith(":0"), "the udp:// listener bound (Bun)");
  }
  return lsn.localAddr;
}

function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(":") + 1));
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255;
  return b;
}

/** Whether the loopback has IPv6 here. */
async function haveIpv6(): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(0, "::1", () => srv.close(() => resolve(true)));
  });
}

/** A TCP echo handler in the Mongoose style: echo c->recv, then consume it. */
function echo(c: Connection, ev: number): void {
  if (ev === MG_EV_READ) {
    c.send(c.recv); // a view into WASM memory: sent without a copy
    c.consume(c.recv.length);
  }
}

/** Sends `data` to `port` over node:net; resolves with everything echoed. */
async function netRoundTrip(host: string, port: number, data: Uint8Array): Promise<Buffer> {
  return await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const sock = net.connect({ host, port }, () => sock.write(data));
    sock.on("data", (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= data.length) sock.end();
    });
    sock.on("error", reject);
    sock.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

test("tcp:// echo server: node:net clients get their bytes back (1 B .. 1 MiB)", async () => {
  const mgr = new Manager();
  try {
    const lsn = mgr.listen("tcp://127.0.0.1:0", echo);
    const port = portOf(lsn.localAddr);
    for (const n of [1, 1000, 65536, 1 << 20]) {
      const data = pattern(n, n);
      const back = await netRoundTrip("127.0.0.1", port, data);
      assert.equal(back.length, n);
      assert.ok(back.equals(data), `echo of ${n} bytes`);
    }
    // Two clients at once
    const [a, b] = await Promise.all([
      netRoundTrip("127.0.0.1", port, pattern(300000, 1)),
      netRoundTrip("127.0.0.1", port, pattern(200000, 2)),
    ]);
    assert.ok(a.equals(pattern(300000, 1)) && b.equals(pattern(200000, 2)));
  } finally {
    mgr.close();
  }
});

test("conn.recv keeps unconsumed bytes; consume(n) removes a prefix", async () => {
  const mgr = new Manager();
  const lines: string[] = [];
  try {
    // A line protocol: answer each complete line, keep a partial one
    const lsn = mgr.listen("tcp://127.0.0.1:0", (c, ev) => {
      if (ev !== MG_EV_READ) return;
      for (;;) {
        const nl = c.recv.indexOf(10);
        if (nl < 0) break;
        const line = new TextDecoder().decode(c.recv.subarray(0, nl));
        lines.push(line);
        const left = c.consume(nl + 1);
        assert.equal(left, c.recv.length);
        c.send(`${line.toUpperCase()}\n`);
      }
    });
    const port = portOf(lsn.localAddr);
    let out = "";
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => (out += d));
    sock.write("hel");
    await new Promise((r) => setTimeout(r, 50));
    sock.write("lo\nwor");
    await waitFor(() => out === "HELLO\n", "the first line");
    sock.write("ld\nlast\n");
    await waitFor(() => out === "HELLO\nWORLD\nLAST\n", "all lines");
    assert.deepEqual(lines, ["hello", "world", "last"]);
    sock.destroy();
    assert.equal(lsn.recv.length, 0);
    assert.throws(() => lsn.consume(-1), RangeError);
  } finally {
    mgr.close();
  }
});

/**
 * Where a peer listens so that "localhost" reaches it whichever address the
 * system resolver gives first: "::" (dual stack) when there is IPv6.
 */
async function anyLoopback(): Promise<string> {
  return (await haveIpv6()) ? "::" : "127.0.0.1";
}

test("tcp:// client to a node:net echo server, by IP and by the name localhost", async () => {
  const server = net.createServer((s) => s.pipe(s));
  const where = await anyLoopback();
  await new Promise<void>((r) => server.listen(0, where, r));
  const port = (server.address() as net.AddressInfo).port;
  const mgr = new Manager();
  try {
    for (const host of ["127.0.0.1", "localhost"]) {
      const data = pattern(100000, 7);
      const got: Uint8Array[] = [];
      let n = 0, connected = false, closed = false;
      mgr.connect(`tcp://${host}:${port}`, (c, ev) => {
        if (ev === MG_EV_CONNECT) {
          connected = true;
          assert.match(c.remoteAddr, new RegExp(`^(127\\.0\\.0\\.1|\\[::1\\]):${port}$`));
          c.send(data);
        } else if (ev === MG_EV_READ) {
          got.push(c.recv.slice());
          n += c.recv.length;
          c.consume(c.recv.length);
          if (n >= data.length) c.close();
        } else if (ev === MG_EV_CLOSE) {
          closed = true;
        }
      });
      await waitFor(() => closed, `the ${host} client to finish`);
      assert.ok(connected, `connected to ${host}`);
      assert.ok(Buffer.concat(got).equals(data), `echo via ${host}`);
    }
  } finally {
    mgr.close();
    server.close();
  }
});

test("http://localhost:PORT reaches a node:http server (host name resolved by the runtime)", async () => {
  const server = http.createServer((req, res) => res.end(`hi ${req.url}`));
  const where = await anyLoopback();
  await new Promise<void>((r) => server.listen(0, where, r));
  const port = (server.address() as net.AddressInfo).port;
  const mgr = new Manager();
  try {
    let body = "", status = 0;
    mgr.connect(`http://localhost:${port}/x`, (c, ev, data) => {
      if (ev === MG_EV_CONNECT) c.send(`GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      else if (ev === MG_EV_HTTP_MSG) {
        const hm = data as HttpMessage;
        status = Number(hm.uri);
        body = hm.text;
        c.close();
      }
    });
    await waitFor(() => status !== 0, "the response");
    assert.equal(status, 200);
    assert.equal(body, "hi /x");
  } finally {
    mgr.close();
    server.close();
  }
});

test("tcp://[::1]: listen and connect over IPv6", async (t) => {
  if (!(await haveIpv6())) {
    t.skip("no IPv6 loopback here");
    return;
  }
  const mgr = new Manager();
  try {
    const lsn = mgr.listen("tcp://[::1]:0", echo);
    assert.match(lsn.localAddr, /^\[::1\]:\d+$/);
    const port = portOf(lsn.localAddr);
    const back = await netRoundTrip("::1", port, pattern(5000, 3));
    assert.ok(back.equals(pattern(5000, 3)));
    // Our client to our server, over ::1
    let reply = "", remote = "";
    mgr.connect(`tcp://[::1]:${port}`, (c, ev) => {
      if (ev === MG_EV_CONNECT) {
        remote = c.remoteAddr;
        c.send("ping6");
      } else if (ev === MG_EV_READ) {
        reply += new TextDecoder().decode(c.recv);
        c.consume(c.recv.length);
      }
    });
    await waitFor(() => reply === "ping6", "the IPv6 echo");
    assert.equal(remote, `[::1]:${port}`);
  } finally {
    mgr.close();
  }
});

test("a connect to a closed port: MG_EV_ERROR then MG_EV_CLOSE", async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    const evs: number[] = [];
    let err = "";
    mgr.connect(`tcp://127.0.0.1:${port}`, (_c, ev, data) => {
      if (ev === MG_EV_ERROR) err = data as string;
      if (ev === MG_EV_ERROR || ev === MG_EV_CLOSE || ev === MG_EV_CONNECT) evs.push(ev);
    });
    await waitFor(() => evs.includes(MG_EV_CLOSE), "the close");
    assert.deepEqual(evs, [MG_EV_ERROR, MG_EV_CLOSE]);
    assert.match(err, /refused|ECONNREFUSED/i);
  } finally {
    mgr.close();
  }
});

// ---- UDP ----------------------------------------------------------------------

/** A node:dgram client: sends each payload, collects the replies. */
async function dgramClient(
  type: "udp4" | "udp6",
  host: string,
  port: number,
  payloads: Uint8Array[],
): Promise<{ replies: Buffer[]; local: number }> {
  const sock = dgram.createSocket(type);
  const replies: Buffer[] = [];
  await new Promise<void>((r) => sock.bind(0, host, r));
  sock.on("message", (m: Buffer) => replies.push(m));
  for (const p of payloads) sock.send(p, port, host);
  try {
    await waitFor(() => replies.length >= payloads.length, "the UDP replies");
    return { replies, local: sock.address().port };
  } finally {
    sock.close();
  }
}

test("udp:// listener: each datagram is one MG_EV_READ; mg_send replies to its sender", async () => {
  const mgr = new Manager();
  const seen: { len: number; remote: string }[] = [];
  try {
    const lsn = mgr.listen("udp://127.0.0.1:0", (c, ev, data) => {
      if (ev !== MG_EV_READ) return;
      assert.equal(data, c.recv.length);
      seen.push({ len: c.recv.length, remote: c.remoteAddr });
      // Reply: a prefix with the length, then the datagram: one datagram
      const out = new Uint8Array(4 + c.recv.length);
      new DataView(out.buffer).setUint32(0, c.recv.length);
      out.set(c.recv, 4);
      assert.equal(c.send(out), true);
    });
    assert.match(await udpBound(lsn), /^127\.0\.0\.1:\d+$/);
    const port = portOf(lsn.localAddr);
    const sizes = [1, 512, 1400, 9000, 60000];
    const payloads = sizes.map((n) => pattern(n, n));
    // Two clients at once: each gets only its own replies
    const [a, b] = await Promise.all([
      dgramClient("udp4", "127.0.0.1", port, payloads),
      dgramClient("udp4", "127.0.0.1", port, [pattern(77, 9)]),
    ]);
    assert.equal(a.replies.length, sizes.length);
    const bySize = new Map(a.replies.map((r) => [r.readUInt32BE(0), r.subarray(4)]));
    for (const p of payloads) {
      assert.ok(Buffer.from(p).equals(bySize.get(p.length) ?? Buffer.alloc(0)), `${p.length}`);
    }
    assert.equal(b.replies.length, 1);
    assert.ok(b.replies[0].subarray(4).equals(pattern(77, 9)));
    assert.equal(seen.length, sizes.length + 1);
    assert.ok(seen.some((s) => s.remote === `127.0.0.1:${a.local}`));
    assert.ok(seen.some((s) => s.remote === `127.0.0.1:${b.local}` && s.len === 77));
    // A datagram larger than UDP allows is refused, the listener lives on
    mgr.logLevel = MG_LL_NONE;
    assert.equal(lsn.send(new Uint8Array(65508)), false);
    assert.ok(lsn.isAlive);
  } finally {
    mgr.close();
  }
});

test("udp:// client to a node:dgram echo server: MG_EV_CONNECT, one datagram per send", async () => {
  const server = dgram.createSocket("udp4");
  server.on("message", (m: Buffer, r: dgram.RemoteInfo) => server.send(m, r.port, r.address));
  await new Promise<void>((r) => server.bind(0, "127.0.0.1", r));
  const port = server.address().port;
  const mgr = new Manager();
  try {
    const got: string[] = [];
    let connected = false;
    const c = mgr.connect(`udp://127.0.0.1:${port}`, (c, ev) => {
      if (ev === MG_EV_CONNECT) {
        connected = true;
        c.send("first");
        c.send("second datagram");
        c.send(pattern(20000, 5));
      } else if (ev === MG_EV_READ) {
        got.push(c.recv.length > 100 ? `<${c.recv.length}>` : new TextDecoder().decode(c.recv));
      }
    });
    await waitFor(() => got.length >= 3, "three echoed datagrams");
    assert.ok(connected);
    assert.deepEqual(got.sort(), ["<20000>", "first", "second datagram"].sort());
    assert.equal(c.remoteAddr, `127.0.0.1:${port}`);
    assert.equal(c.recv.length, 0, "c->recv is cleared after each datagram");
    // By host name too
    const got2: string[] = [];
    mgr.connect(`udp://localhost:${port}`, (c, ev) => {
      if (ev === MG_EV_CONNECT) c.send("by name");
      if (ev === MG_EV_READ) got2.push(new TextDecoder().decode(c.recv));
    });
    await waitFor(() => got2.length === 1, "the echo via localhost");
    assert.deepEqual(got2, ["by name"]);
  } finally {
    mgr.close();
    server.close();
  }
});

test("udp:// over IPv6: listener on [::1], our client to it", async (t) => {
  if (!(await haveIpv6())) {
    t.skip("no IPv6 loopback here");
    return;
  }
  const mgr = new Manager();
  try {
    const lsn = mgr.listen("udp://[::1]:0", (c, ev) => {
      if (ev === MG_EV_READ) c.send(c.recv);
    });
    assert.match(await udpBound(lsn), /^\[::1\]:\d+$/);
    const port = portOf(lsn.localAddr);
    const { replies } = await dgramClient("udp6", "::1", port, [pattern(100, 1)]);
    assert.ok(replies[0].equals(pattern(100, 1)));
    const got: string[] = [];
    mgr.connect(`udp://[::1]:${port}`, (c, ev) => {
      if (ev === MG_EV_CONNECT) c.send("v6");
      if (ev === MG_EV_READ) got.push(new TextDecoder().decode(c.recv));
    });
    await waitFor(() => got.length === 1, "the IPv6 UDP echo");
    assert.deepEqual(got, ["v6"]);
  } finally {
    mgr.close();
  }
});

test("udp:// listen on a port in use throws with the reason", async () => {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    const lsn = mgr.listen("udp://127.0.0.1:0");
    const addr = await udpBound(lsn);
    assert.throws(
      () => mgr.listen(`udp://${addr}`),
      /cannot listen.*(EADDRINUSE|in use)/i,
    );
  } finally {
    mgr.close();
  }
});

// ---- DNS ------------------------------------------------------------------------

test("conn.resolve: localhost and IP literals give MG_EV_RESOLVE with the address", async () => {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  const server = net.createServer(() => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const results: string[] = [];
    let err = "";
    const c = mgr.connect(`tcp://127.0.0.1:${port}`, (c, ev, data) => {
      if (ev === MG_EV_RESOLVE) results.push(c.remoteAddr);
      if (ev === MG_EV_ERROR) err = data as string;
    });
    await waitFor(() => c.remoteAddr !== "0.0.0.0:0" && c.remoteAddr !== "", "connected");
    c.resolve("udp://10.9.8.7:53"); // a literal: at once
    assert.deepEqual(results, ["10.9.8.7:53"]);
    c.resolve("tcp://localhost:8080"); // "localhost" is taken as 127.0.0.1 (as mg_aton does)
    assert.deepEqual(results, ["10.9.8.7:53", "127.0.0.1:8080"]);
    // This machine's name goes through the runtime's resolver: the same
    // answer as node:dns gives
    const name = os.hostname();
    const want = await new Promise<string | null>((r) =>
      dns.lookup(name, (e: Error | null, a: string) => r(e === null ? a : null))
    );
    if (want !== null) {
      c.resolve(`tcp://${name}:8080`);
      assert.equal(results.length, 2, "a name is not answered synchronously");
      await waitFor(() => results.length === 3, `the resolution of ${name}`);
      assert.equal(results[2], want.indexOf(":") >= 0 ? `[${want}]:8080` : `${want}:8080`);
    }
    // Cancelled: nothing follows (this lookup would fail with MG_EV_ERROR)
    const before = results.length;
    c.resolve("tcp://no-such-host.invalid:9090");
    c.resolveCancel();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(results.length, before);
    assert.equal(err, "");
    assert.ok(c.isAlive);
    // A name that does not exist: MG_EV_ERROR (and the connection closes)
    c.resolve("tcp://no-such-host.invalid:80");
    await waitFor(() => err !== "", "the resolver error");
    assert.match(err, /failed to resolve/);
    await waitFor(() => !c.isAlive, "the close");
  } finally {
    mgr.close();
    server.close();
  }
});

// ---- socat, when installed ------------------------------------------------------

/** The path of socat, or undefined. */
function findSocat(): string | undefined {
  const path = (process.env.PATH ?? "/usr/bin:/bin").split(":");
  for (const dir of path) {
    const p = `${dir}/socat`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Runs socat with `input` on stdin; resolves with its stdout. */
function socat(bin: string, addr: string, input: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const p = spawn(bin, ["-t", "2", "-", addr], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    p.stdout?.setEncoding("utf8");
    p.stdout?.on("data", (s: string) => (out += s));
    p.once("error", reject);
    p.once("exit", () => resolve(out));
    p.stdin?.end(input);
  });
}

test("socat as a TCP and a UDP client of our echo servers", async (t) => {
  const bin = findSocat();
  if (bin === undefined) {
    t.skip("socat is not installed");
    return;
  }
  const mgr = new Manager();
  try {
    const tcp = mgr.listen("tcp://127.0.0.1:0", echo);
    const udp = mgr.listen("udp://127.0.0.1:0", (c, ev) => {
      if (ev === MG_EV_READ) c.send(c.recv);
    });
    assert.equal(await socat(bin, `TCP:${tcp.localAddr}`, "over tcp\n"), "over tcp\n");
    assert.equal(await socat(bin, `UDP:${udp.localAddr}`, "over udp\n"), "over udp\n");
  } finally {
    mgr.close();
  }
});

test("udp:// client errors: port 0 and an unknown host give MG_EV_ERROR then MG_EV_CLOSE", async () => {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    for (const url of ["udp://127.0.0.1:0", "udp://no-such-host.invalid:53"]) {
      const evs: number[] = [];
      let err = "";
      mgr.connect(url, (_c, ev, data) => {
        if (ev === MG_EV_ERROR) err = data as string;
        if (ev === MG_EV_ERROR || ev === MG_EV_CLOSE || ev === MG_EV_CONNECT) evs.push(ev);
      });
      await waitFor(() => evs.includes(MG_EV_CLOSE), `the close of ${url}`);
      assert.deepEqual(evs, [MG_EV_ERROR, MG_EV_CLOSE], url);
      assert.ok(err.length > 0, url);
    }
  } finally {
    mgr.close();
  }
});
