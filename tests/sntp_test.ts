// SNTP client (mgr.sntpConnect, conn.sntpRequest, MG_EV_SNTP_TIME) against a
// real NTP server on 127.0.0.1: Debian's chronyd, started by the test as a
// child (-d foreground, -x: never touch the system clock, its own config with
// a free port, `local stratum 8`). If chronyd is missing or does not answer,
// the test says why and uses a node:dgram NTP responder instead. Responders
// written here also check what chronyd cannot show: the time is the
// server's (an offset server shifts it), round-trip correction, and the
// rejection of kiss-o'-death, unsynchronised and non-server replies.
// Runs on Deno and (compiled by tsc) on Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { Manager, MG_EV_CLOSE, MG_EV_ERROR, MG_EV_SNTP_TIME, MG_LL_NONE } from "../mod.ts";

const TIMEOUT_MS = 10_000;
const NTP_UNIX = 2208988800;
const CHRONYD = ["/usr/sbin/chronyd", "/usr/bin/chronyd", "/sbin/chronyd"].find((p) =>
  existsSync(p)
);

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + TIMEOUT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function putTime(b: Buffer, off: number, ms: number): void {
  const sec = Math.floor(ms / 1000);
  b.writeUInt32BE((sec + NTP_UNIX) >>> 0, off);
  b.writeUInt32BE(Math.floor(((ms - sec * 1000) / 1000) * 0x100000000) >>> 0, off + 4);
}

/** A free UDP port on 127.0.0.1 (bound, then released). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Sends one client request with node:dgram; resolves with the reply or null. */
async function probe(port: number, ms: number): Promise<Buffer | null> {
  const s = dgram.createSocket("udp4");
  return await new Promise<Buffer | null>((resolve) => {
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, ms);
    s.on("message", (m: Buffer) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.on("error", () => {});
    const req = Buffer.alloc(48);
    req[0] = 0x23;
    s.send(req, port, "127.0.0.1");
  });
}

interface Server {
  port: number;
  kind: string;
  stop(): Promise<void>;
}

/**
 * A node:dgram NTP responder: answers each client request with `make(req)`
 * (a reply built from the request), or with a standard server reply.
 */
async function responder(
  make?: (req: Buffer) => Buffer,
  offsetMs = 0,
): Promise<Server & { requests: number }> {
  const s = dgram.createSocket("udp4");
  const srv = {
    port: 0,
    kind: "node:dgram responder",
    requests: 0,
    stop: () => new Promise<void>((r) => s.close(() => r())),
  };
  s.on("message", (req: Buffer, r: dgram.RemoteInfo) => {
    srv.requests++;
    let out: Buffer;
    if (make !== undefined) {
      out = make(req);
    } else {
      out = Buffer.alloc(48);
      out[0] = 0x24; // LI 0, version 4, mode 4 (server)
      out[1] = 2;
      req.copy(out, 24, 40, 48); // originate = the client's transmit time
      putTime(out, 32, Date.now() + offsetMs);
      putTime(out, 40, Date.now() + offsetMs);
    }
    s.send(out, r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  srv.port = s.address().port;
  return srv;
}

/** chronyd on a free port, or the reason it cannot be used. */
async function startChrony(): Promise<Server | string> {
  if (CHRONYD === undefined) return "chronyd is not installed";
  const dir = mkdtempSync(join(tmpdir(), "wasmgoose-chrony-"));
  const port = await freeUdpPort();
  const conf = join(dir, "chrony.conf");
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bindaddress 127.0.0.1",
      "local stratum 8",
      "allow 127.0.0.1",
      "cmdport 0",
      `pidfile ${join(dir, "chronyd.pid")}`,
      `driftfile ${join(dir, "drift")}`,
      "",
    ].join("\n"),
  );
  // -d: foreground, logs to stderr; -x: do not control the system clock;
  // -u root: stay the user we are (as root it would switch to _chrony and
  // could not remove its pid file in our directory).
  const args = ["-d", "-x", "-f", conf];
  if ((globalThis as { process?: { getuid?: () => number } }).process?.getuid?.() === 0) {
    args.push("-u", "root");
  }
  let log = "";
  let exited = false;
  const proc: ChildProcess = spawn(CHRONYD, args, { stdio: ["ignore", "ignore", "pipe"] });
  proc.stderr?.setEncoding("utf8");
  proc.stderr?.on("data", (s: string) => (log += s));
  const exit = new Promise<void>((r) =>
    proc.once("exit", () => {
      exited = true;
      r();
    })
  );
  proc.once("error", (e) => (log += String(e)));
  const stop = async () => {
    if (!exited && proc.pid !== undefined) proc.kill("SIGTERM");
    await Promise.race([exit, new Promise((r) => setTimeout(r, 3000))]);
    if (!exited) proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + 8000;
  while (Date.now() < end && !exited) {
    const reply = await probe(port, 300);
    if (reply !== null && reply.length >= 48) return { port, kind: "chronyd", stop };
  }
  await stop();
  return `chronyd did not answer on 127.0.0.1:${port} (${exited ? "it exited" : "no reply"}): ${
    log.trim().split("\n").slice(-3).join(" | ")
  }`;
}

interface Outcome {
  times: number[];
  errors: string[];
  closed: boolean;
}

/** sntpConnect + sntpRequest `n` times (one after each answer). */
async function ask(mgr: Manager, port: number, n: number): Promise<Outcome> {
  const o: Outcome = { times: [], errors: [], closed: false };
  const c = mgr.sntpConnect(`udp://127.0.0.1:${port}`, (c, ev, data) => {
    if (ev === MG_EV_SNTP_TIME) {
      o.times.push(data as number);
      if (o.times.length < n) c.sntpRequest();
    } else if (ev === MG_EV_ERROR) {
      o.errors.push(data as string);
    } else if (ev === MG_EV_CLOSE) {
      o.closed = true;
    }
  });
  c.sntpRequest(); // before MG_EV_CONNECT: sent once connected
  await waitFor(() => o.times.length >= n || o.closed, "the SNTP answers");
  return o;
}

test("SNTP against chronyd on 127.0.0.1: the time is within seconds of Date.now()", async (t) => {
  let server = await startChrony();
  if (typeof server === "string") {
    t.diagnostic(`not using chronyd: ${server}; falling back to a node:dgram responder`);
    server = await responder();
  }
  const mgr = new Manager();
  try {
    const o = await ask(mgr, server.port, 2);
    assert.deepEqual(o.errors, [], `no errors from ${server.kind}`);
    assert.equal(o.times.length, 2);
    for (const ms of o.times) {
      assert.ok(Number.isInteger(ms));
      assert.ok(
        Math.abs(ms - Date.now()) < 5000,
        `${new Date(ms).toISOString()} from ${server.kind}`,
      );
    }
  } finally {
    mgr.close();
    await server.stop();
  }
});

test("SNTP: the time is the server's (a server one hour ahead)", async () => {
  const srv = await responder(undefined, 3_600_000);
  const mgr = new Manager();
  try {
    const o = await ask(mgr, srv.port, 1);
    assert.equal(o.times.length, 1);
    const skew = o.times[0] - Date.now();
    assert.ok(Math.abs(skew - 3_600_000) < 5000, `skew ${skew} ms`);
  } finally {
    mgr.close();
    await srv.stop();
  }
});

test("SNTP: round-trip correction (receive and transmit stamps 2 s apart)", async () => {
  // T2 = now - 1 s, T3 = now + 1 s: with the round trip taken into account
  // the time is about now; T3 alone would be 1 s ahead.
  const srv = await responder((req) => {
    const out = Buffer.alloc(48);
    out[0] = 0x24;
    out[1] = 3;
    req.copy(out, 24, 40, 48);
    putTime(out, 32, Date.now() - 1000);
    putTime(out, 40, Date.now() + 1000);
    return out;
  });
  const mgr = new Manager();
  try {
    const o = await ask(mgr, srv.port, 1);
    assert.equal(o.times.length, 1);
    const skew = o.times[0] - Date.now();
    assert.ok(Math.abs(skew) < 500, `skew ${skew} ms (1000 without the correction)`);
  } finally {
    mgr.close();
    await srv.stop();
  }
});

test("SNTP: kiss-o'-death, unsynchronised, non-server and short replies give MG_EV_ERROR", async () => {
  const cases: Array<[string, (req: Buffer) => Buffer, RegExp]> = [
    ["stratum 0 RATE", (req) => reply(req, 0x24, 0, "RATE"), /kiss/],
    ["LI 3", (req) => reply(req, 0xe4, 2), /synchronised/],
    ["mode 3", (req) => reply(req, 0x23, 2), /not a server/],
    ["stratum 16", (req) => reply(req, 0x24, 16), /stratum/],
    ["47 bytes", (req) => reply(req, 0x24, 2).subarray(0, 47), /short/],
  ];
  for (const [name, make, want] of cases) {
    const srv = await responder(make);
    const mgr = new Manager();
    mgr.logLevel = MG_LL_NONE;
    try {
      const o = await ask(mgr, srv.port, 1);
      assert.equal(o.times.length, 0, name);
      assert.equal(o.errors.length, 1, name);
      assert.match(o.errors[0], want, name);
      assert.ok(o.closed, `${name}: closed`);
    } finally {
      mgr.close();
      await srv.stop();
    }
  }
});

test("SNTP: a reply that does not echo our transmit time is ignored", async () => {
  let n = 0;
  const srv = await responder((req) => {
    const out = reply(req, 0x24, 2);
    if (n++ === 0) out[31] ^= 0xff; // the first reply: wrong originate time
    return out;
  });
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    const times: number[] = [];
    const c = mgr.sntpConnect(`udp://127.0.0.1:${srv.port}`, (_c, ev, data) => {
      if (ev === MG_EV_SNTP_TIME) times.push(data as number);
    });
    c.sntpRequest();
    await waitFor(() => srv.requests === 1, "the first request");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(times.length, 0, "the bogus reply was ignored");
    assert.ok(c.isAlive);
    c.sntpRequest();
    await waitFor(() => times.length === 1, "the good reply");
  } finally {
    mgr.close();
    await srv.stop();
  }
});

/** A reply to `req` with the given first byte and stratum. */
function reply(req: Buffer, b0: number, stratum: number, kiss?: string): Buffer {
  const out = Buffer.alloc(48);
  out[0] = b0;
  out[1] = stratum;
  if (kiss !== undefined) out.write(kiss, 12, "latin1");
  req.copy(out, 24, 40, 48);
  putTime(out, 32, Date.now());
  putTime(out, 40, Date.now());
  return out;
}
