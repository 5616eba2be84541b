// Request bodies streamed on the event API: conn.streamBody(hm) from
// MG_EV_HTTP_HDRS, then MG_EV_HTTP_BODY pieces. Against curl (Content-Length
// and chunked uploads far above MG_MAX_RECV_SIZE), fetch and raw sockets
// (pipelining, malformed chunked bodies). Only node:* modules, so this file
// runs on Deno, Node and Bun.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Raw } from "./raw_client.ts";
import {
  type Connection,
  type HttpMessage,
  Manager,
  MG_EV_HTTP_BODY,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
} from "../mod.ts";

/** What the server saw of one streamed body. */
interface Seen {
  uri: string;
  pieces: number;
  size: number;
  ended: boolean;
  malformed: boolean;
  /** Pieces of data that arrived while the handler had set isFull. */
  whilePaused: number;
}

interface Server {
  url: string;
  port: number;
  seen: Seen[];
}

/**
 * A server that streams the body of every `/stream…` request and answers
 * with its size and SHA-256 once it has ended; `/early` is answered 202 at
 * its headers and its body still read to the end. Other requests are
 * buffered (MG_EV_HTTP_MSG) and answered "buffered N". With `pauseMs`,
 * reads stop for that long after each MiB.
 */
async function withServer(fn: (s: Server) => Promise<void>, pauseMs = 0): Promise<void> {
  const mgr = new Manager();
  const seen: Seen[] = [];
  interface St {
    s: Seen;
    hash: ReturnType<typeof createHash>;
    mark: number;
    paused: boolean;
  }
  const state = new Map<Connection, St>();
  const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
    if (ev === MG_EV_HTTP_HDRS) {
      const hm = data as HttpMessage;
      if (!hm.uri.startsWith("/stream") && hm.uri !== "/early") return;
      if (!c.streamBody(hm)) return; // no body: MG_EV_HTTP_MSG follows
      const s: Seen = {
        uri: hm.uri,
        pieces: 0,
        size: 0,
        ended: false,
        malformed: false,
        whilePaused: 0,
      };
      seen.push(s);
      state.set(c, { s, hash: createHash("sha256"), mark: 0, paused: false });
      if (hm.uri === "/early") c.reply(202, "early\n");
    } else if (ev === MG_EV_HTTP_BODY) {
      const st = state.get(c);
      assert.ok(st !== undefined, "a body piece without streamBody()");
      // (the empty end-of-body piece follows the last one at once: not input)
      if (st.paused && data !== null && (data as Uint8Array).length > 0) st.s.whilePaused++;
      if (data === null) { // malformed: answer it (the core closes the connection after)
        st.s.malformed = true;
        state.delete(c);
        if (st.s.uri !== "/early") c.reply(400, "bad body\n");
        return;
      }
      const piece = data as Uint8Array;
      if (piece.length === 0) {
        st.s.ended = true;
        state.delete(c);
        const answer = { size: st.s.size, sha256: st.hash.digest("hex") };
        if (st.s.uri !== "/early") c.reply(200, JSON.stringify(answer));
        return;
      }
      st.s.pieces++;
      st.s.size += piece.length;
      st.hash.update(piece);
      if (pauseMs > 0 && st.s.size - st.mark >= 1 << 20) {
        st.mark = st.s.size;
        st.paused = c.isFull = true;
        setTimeout(() => {
          st.paused = false;
          if (c.isAlive) c.isFull = false;
        }, pauseMs);
      }
    } else if (ev === MG_EV_HTTP_MSG) {
      c.reply(200, `buffered ${(data as HttpMessage).body.length}`);
    }
  });
  const port = Number(lsn.localAddr.split(":").pop());
  try {
    await fn({ url: `http://127.0.0.1:${port}`, port, seen });
  } finally {
    mgr.close();
  }
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "curl",
      ["-sS", "--max-time", "60", ...args],
      { maxBuffer: 1 << 20 },
      (e, out, err) => {
        if (e !== null) reject(new Error(`curl ${args.join(" ")}: ${e.message} ${err}`));
        else resolve(out);
      },
    );
  });
}

const top = fs.mkdtempSync(join(tmpdir(), "wasmgoose-body-"));
const BIG = 20 << 20; // far above MG_MAX_RECV_SIZE (3 MiB)
const bigFile = join(top, "big.bin");
let bigSha = "";
{
  const b = new Uint8Array(BIG);
  for (let i = 0; i < b.length; i++) b[i] = (i * 131 + (i >> 11)) & 255;
  fs.writeFileSync(bigFile, b);
  bigSha = createHash("sha256").update(b).digest("hex");
}

/** Uploads the big file to `base`-cl with Content-Length and to `base`-chunked chunked; checks both answers. */
async function uploadBoth(url: string, base: string): Promise<void> {
  for (const chunked of [false, true]) {
    const out = await curl([
      ...(chunked ? ["-H", "Transfer-Encoding: chunked"] : []),
      "--data-binary",
      "@" + bigFile,
      `${url}${base}-${chunked ? "chunked" : "cl"}`,
    ]);
    assert.deepEqual(JSON.parse(out), { size: BIG, sha256: bigSha });
  }
}

test("a 20 MiB body streams in pieces (curl, Content-Length and chunked)", async () => {
  await withServer(async ({ url, seen }) => {
    await uploadBoth(url, "/stream/big");
    assert.equal(seen.length, 2);
    for (const s of seen) {
      assert.ok(s.ended && !s.malformed && s.size === BIG, JSON.stringify(s));
      assert.ok(s.pieces > 1, `${s.uri} came in ${s.pieces} piece(s)`);
    }
  });
});

test("isFull stops the pieces until it is cleared (backpressure), chunked bodies too", async () => {
  await withServer(async ({ url, seen }) => {
    // chunked: a read holds many chunks, and those after the pause wait too
    await uploadBoth(url, "/stream/paused");
    assert.equal(seen.length, 2);
    for (const s of seen) assert.equal(s.whilePaused, 0, `${s.uri}: pieces came while paused`);
  }, 20);
});

test("the client half-closes while reads are paused: the whole body, then the answer", async () => {
  await withServer(async ({ port, seen }) => {
    const body = new Uint8Array(3 << 20).map((_, i) => (i * 7) & 255);
    const raw = new Raw(port);
    raw.write(`POST /stream/half HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n`);
    raw.write(body);
    raw.sock.end(); // our side is done: the end arrives while the server holds input
    const list = await raw.waitResponses(1);
    assert.equal(list.length, 1);
    assert.deepEqual(JSON.parse(list[0].body), {
      size: body.length,
      sha256: createHash("sha256").update(body).digest("hex"),
    });
    assert.equal(seen[0].whilePaused, 0);
    raw.destroy();
  }, 100);
});

test("no body: MG_EV_HTTP_MSG as usual; small bodies stream too (fetch)", async () => {
  await withServer(async ({ url, seen }) => {
    let r = await fetch(url + "/stream/none");
    assert.equal(await r.text(), "buffered 0");
    r = await fetch(url + "/stream/small", { method: "POST", body: "hello" });
    assert.deepEqual(await r.json(), {
      size: 5,
      sha256: createHash("sha256").update("hello").digest("hex"),
    });
    r = await fetch(url + "/other", { method: "POST", body: "kept whole" });
    assert.equal(await r.text(), "buffered 10");
    assert.deepEqual(seen.map((s) => [s.uri, s.size, s.ended]), [["/stream/small", 5, true]]);
  });
});

test("pipelined: answers in order, an early answer waits for its body's end", async () => {
  await withServer(async ({ port, seen }) => {
    const raw = new Raw(port);
    raw.write(
      "POST /early HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde" +
        "POST /stream/2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n" +
        "POST /other HTTP/1.1\r\nContent-Length: 2\r\n\r\nok",
    );
    const list = await raw.waitResponses(3);
    raw.destroy();
    assert.deepEqual(list.map((r) => r.status), [202, 200, 200]);
    assert.equal(list[0].body, "early\n");
    assert.equal(JSON.parse(list[1].body).size, 3);
    assert.equal(list[2].body, "buffered 2");
    assert.deepEqual(seen.map((s) => [s.uri, s.size, s.ended]), [["/early", 5, true], [
      "/stream/2",
      3,
      true,
    ]]);
  });
});

test("a malformed chunked body: one null piece, 400, the connection closes", async () => {
  await withServer(async ({ port, seen }) => {
    const raw = new Raw(port);
    // the head and a good chunk first (all at once, the server would refuse
    // the request before MG_EV_HTTP_HDRS), then a bad chunk-size line
    raw.write("POST /stream/bad HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n");
    await raw.until(() => seen.length === 1 && seen[0].size === 3, "the first chunk");
    raw.write("ZZ\r\nGET /never HTTP/1.1\r\n\r\n");
    await raw.waitClose();
    const list = raw.responses();
    assert.deepEqual(list.map((r) => r.status), [400]);
    assert.ok(seen[0].malformed && !seen[0].ended, JSON.stringify(seen[0]));
  });
});

test("streamBody() outside MG_EV_HTTP_HDRS: false, and the body is buffered", async () => {
  const mgr = new Manager();
  const results: boolean[] = [];
  const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    results.push(c.streamBody(data as HttpMessage));
    c.reply(200, `buffered ${(data as HttpMessage).body.length}`);
  });
  try {
    const port = Number(lsn.localAddr.split(":").pop());
    const r = await fetch(`http://127.0.0.1:${port}/x`, { method: "POST", body: "abc" });
    assert.equal(await r.text(), "buffered 3");
    assert.deepEqual(results, [false]);
  } finally {
    mgr.close();
  }
});

test("cleanup", () => {
  fs.rmSync(top, { recursive: true, force: true });
});
