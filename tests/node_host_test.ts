// The node:net backend (Node and Bun) while C has reads paused: input the
// socket still emits (Bun does after pause()) and the rest of a chunk that C
// paused in the middle of are held, then handed over in order once reads
// resume, with the peer's end after them. A fake socket stands in for
// node:net's, so the order of events is exact. Runs on Deno, Node and Bun.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import process from "node:process";
import { NodeBackend } from "../src/host/node.ts";
import type { BackendSink } from "../src/host/types.ts";

/** A socket that only records pause/resume and lets the test emit events. */
class FakeSocket extends EventEmitter {
  calls: string[] = [];
  destroyed = false;
  writable = true;
  writableLength = 0;
  remoteAddress = "127.0.0.1";
  remotePort = 1;
  localAddress = "127.0.0.1";
  localPort = 2;
  pause(): this {
    this.calls.push("pause");
    return this;
  }
  resume(): this {
    this.calls.push("resume");
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  write(): boolean {
    return true;
  }
  end(): this {
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

interface NetLike {
  connect: (...args: unknown[]) => unknown;
}

/** A backend with one connected fake socket; `log` gets what reached C. */
function setup(onRecv: (backend: NodeBackend, hid: number, text: string) => void = () => {}): {
  backend: NodeBackend;
  sock: FakeSocket;
  hid: number;
  log: string[];
} {
  const log: string[] = [];
  let hid = 0;
  const sink: BackendSink = {
    mem: () => new Uint8Array(0),
    accept: () => 0,
    connected: () => log.push("connected"),
    connectFailed: (_c, m) => log.push(`failed ${m}`),
    recv: (_c, data, off, len) => {
      const text = new TextDecoder().decode(data.subarray(off, off + len));
      log.push(`recv ${text.length > 12 ? `${text[0]}×${text.length}` : text}`);
      onRecv(backend, hid, text);
    },
    eof: () => log.push("eof"),
    closed: () => log.push("closed"),
    writable: () => log.push("writable"),
  };
  const backend = new NodeBackend(sink);
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const net = getBuiltin?.("node:net") as NetLike;
  const sock = new FakeSocket();
  const real = net.connect;
  net.connect = () => sock;
  try {
    hid = backend.connect(7, "127.0.0.1", 1, 0);
  } finally {
    net.connect = real;
  }
  assert.ok(hid > 0, backend.lastError);
  sock.emit("connect");
  return { backend, sock, hid, log };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

test("input and the end that arrive while paused wait, then come in order", async () => {
  const { backend, sock, hid, log } = setup();
  backend.pause(hid, true);
  assert.deepEqual(sock.calls, ["pause"]);
  sock.emit("data", Buffer.from("abc"));
  sock.emit("data", Buffer.from("def"));
  sock.emit("end");
  assert.deepEqual(log, ["connected"]);
  backend.pause(hid, false);
  assert.deepEqual(log, ["connected"], "not handed over inside the call that resumed");
  await tick();
  assert.deepEqual(log, ["connected", "recv abc", "recv def", "eof"]);
  assert.deepEqual(sock.calls, ["pause", "resume"]);
  sock.emit("data", Buffer.from("ghi")); // and straight through again
  assert.deepEqual(log.slice(4), ["recv ghi"]);
});

test("C pauses in the middle of a large chunk: the rest waits for the resume", async () => {
  let pauseOnce = true;
  const { backend, sock, hid, log } = setup((b, h, text) => {
    if (pauseOnce && text.length > 12) {
      pauseOnce = false;
      b.pause(h, true); // as C does from inside recv (is_full set by a handler)
    }
  });
  const big = Buffer.alloc(65536 * 2 + 10, "x");
  sock.emit("data", big);
  assert.deepEqual(log, ["connected", "recv x×65536"]);
  sock.emit("data", Buffer.from("tail"));
  backend.pause(hid, false);
  await tick();
  assert.deepEqual(log, [
    "connected",
    "recv x×65536",
    "recv x×65536",
    "recv xxxxxxxxxx",
    "recv tail",
  ]);
  assert.deepEqual(sock.calls, ["pause", "resume"]);
});

test("paused again while the held input is handed over: the rest waits once more", async () => {
  let n = 0;
  const { backend, sock, hid, log } = setup((b, h) => {
    if (++n === 2) b.pause(h, true); // after the second piece
  });
  backend.pause(hid, true);
  for (const s of ["a", "b", "c"]) sock.emit("data", Buffer.from(s));
  sock.emit("end");
  backend.pause(hid, false);
  await tick();
  assert.deepEqual(log, ["connected", "recv a", "recv b"]);
  backend.pause(hid, false);
  await tick();
  assert.deepEqual(log, ["connected", "recv a", "recv b", "recv c", "eof"]);
});

test("a closed socket's held input is dropped", async () => {
  const { backend, sock, hid, log } = setup();
  backend.pause(hid, true);
  sock.emit("data", Buffer.from("lost"));
  backend.close(hid); // C closed the connection
  backend.pause(hid, false);
  await tick();
  assert.deepEqual(log, ["connected"]);
});
