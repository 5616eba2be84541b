// Browser interop: a page in headless Chromium talks WebSocket to a Manager.
// The page sends text and binary messages of 0 B, 125 B, 126 B, 64 KiB and
// 1 MiB; the server checks them byte for byte, then sends its own messages of
// the same sizes, which the page echoes and the server checks again. Skipped
// when /usr/bin/chromium is absent (Debian: `apt-get install chromium`).
// Only node:test and node:assert, so this file runs on Deno and, compiled by
// tsc, on Node, like the other tests.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  type EventHandler,
  type HttpMessage,
  Manager,
  MG_EV_CLOSE,
  MG_EV_HTTP_MSG,
  MG_EV_WS_MSG,
  MG_LL_NONE,
  WEBSOCKET_OP_BINARY,
  WEBSOCKET_OP_TEXT,
  type WsMessage,
} from "../mod.ts";

const CHROMIUM = "/usr/bin/chromium";
const SIZES = [0, 125, 126, 65536, 1 << 20];
const TIMEOUT_MS = 20_000;
const encoder = new TextEncoder();

// ---- the payloads ------------------------------------------------------------------
// The page's script computes the same payloads on its own (see PAGE); `salt`
// tells the page's messages (0) from the server's (1).

/** Binary payload of `n` bytes: byte i = (i * 31 + n + salt * 101) & 255. */
function makeBytes(n: number, salt: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + n + salt * 101) & 255;
  return out;
}

/** Text payload of `n` UTF-8 bytes: "é€𝄞" (2 + 3 + 4 bytes) when it fits, then ASCII. */
function makeText(n: number, salt: number): string {
  let s = n >= 9 ? "é€𝄞" : "";
  for (let j = n >= 9 ? 9 : 0; j < n; j++) {
    s += String.fromCharCode(97 + (j * 7 + n + salt * 3) % 26);
  }
  return s;
}

interface Expected {
  what: string;
  op: number;
  bytes: Uint8Array;
}

/** Text and binary messages of every size, as UTF-8 / raw bytes. */
function messages(salt: number): Expected[] {
  const out: Expected[] = [];
  for (const n of SIZES) {
    const text = encoder.encode(makeText(n, salt));
    assert.equal(text.length, n, `text payload of ${n} B`);
    out.push({ what: `text ${n} B`, op: WEBSOCKET_OP_TEXT, bytes: text });
    out.push({ what: `binary ${n} B`, op: WEBSOCKET_OP_BINARY, bytes: makeBytes(n, salt) });
  }
  return out;
}

/** Index of the first differing byte, or -1. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

// ---- the page ------------------------------------------------------------------------
// Control messages are text starting with "ctl:" (no payload does). The page
// sends its ten messages and "ctl:sent"; it echoes every other message it
// gets; on "ctl:end" it answers "ctl:done". Problems go to /report.

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>wasmgoose browser test</title></head>
<body><script>
"use strict";
const SIZES = ${JSON.stringify(SIZES)};
function makeBytes(n, salt) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + n + salt * 101) & 255;
  return out;
}
function makeText(n, salt) {
  let s = n >= 9 ? "\\u00e9\\u20ac\\u{1d11e}" : "";
  for (let j = n >= 9 ? 9 : 0; j < n; j++) s += String.fromCharCode(97 + (j * 7 + n + salt * 3) % 26);
  return s;
}
let finished = false;
function report(msg) {
  fetch("/report", { method: "POST", body: String(msg) }).catch(() => {});
}
window.addEventListener("error", (e) => report("page error: " + e.message));
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.binaryType = "arraybuffer";
ws.onopen = () => {
  for (const n of SIZES) {
    ws.send(makeText(n, 0));
    ws.send(makeBytes(n, 0));
  }
  ws.send("ctl:sent");
};
ws.onmessage = (e) => {
  if (e.data === "ctl:end") {
    finished = true;
    ws.send("ctl:done");
  } else if (typeof e.data === "string") {
    ws.send(e.data);
  } else if (e.data instanceof ArrayBuffer) {
    ws.send(e.data);
  } else {
    report("unexpected message type: " + Object.prototype.toString.call(e.data));
  }
};
ws.onerror = () => report("WebSocket error event");
ws.onclose = (e) => {
  if (!finished) report("WebSocket closed early: code " + e.code + " reason " + e.reason);
};
</script></body></html>
`;

// ---- the server ------------------------------------------------------------------------

const HTML_HEADERS: Record<string, string> = Object.freeze({
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
});

interface Exchange {
  /** Resolves when all checks passed, rejects on the first problem. */
  result: Promise<void>;
  handler: EventHandler;
  /** What happened so far, for a timeout message. */
  progress(): string;
}

/** The server's side of the exchange. */
function exchange(): Exchange {
  const fromPage = messages(0);
  const fromServer = messages(1);
  let pageGot = 0; // page messages checked
  let echoGot = 0; // echoes checked
  let sent = false; // "ctl:sent" received
  let settled = false;
  let ok: () => void = () => {};
  let fail: (e: Error) => void = () => {};
  const result = new Promise<void>((resolve, reject) => {
    ok = resolve;
    fail = reject;
  });
  const finish = (err?: Error) => {
    if (settled) return;
    settled = true;
    if (err === undefined) ok();
    else fail(err);
  };

  /** Checks `msg` against `want`; returns an error message or undefined. */
  const check = (msg: WsMessage, want: Expected | undefined, dir: string): string | undefined => {
    const got = msg.data;
    if (want === undefined) return `${dir}: unexpected extra message of ${got.length} B`;
    if (msg.op !== want.op) return `${dir} ${want.what}: opcode ${msg.op}, want ${want.op}`;
    const d = firstDiff(got, want.bytes);
    if (d < 0) return undefined;
    return `${dir} ${want.what}: got ${got.length} B, differs at byte ${d}`;
  };

  const handler: EventHandler = (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG) {
      const hm = data as HttpMessage;
      if (hm.method === "GET" && hm.uri === "/") c.reply(200, PAGE, HTML_HEADERS);
      else if (hm.uri === "/ws") c.wsUpgrade(hm);
      else if (hm.method === "POST" && hm.uri === "/report") {
        c.reply(204);
        finish(new Error(`the page reports: ${hm.text}`));
      } else c.reply(404, "not found\n");
    } else if (ev === MG_EV_WS_MSG) {
      const msg = data as WsMessage;
      if (msg.op === WEBSOCKET_OP_TEXT && msg.text.startsWith("ctl:")) {
        const ctl = msg.text;
        if (ctl === "ctl:sent" && !sent) {
          sent = true;
          if (pageGot !== fromPage.length) {
            return finish(new Error(`page sent ${pageGot} of ${fromPage.length} messages`));
          }
          for (const m of fromServer) c.wsSend(m.bytes, m.op);
          c.wsSend("ctl:end");
        } else if (ctl === "ctl:done" && sent) {
          if (echoGot !== fromServer.length) {
            return finish(new Error(`page echoed ${echoGot} of ${fromServer.length} messages`));
          }
          c.wsClose(1000, "done");
          finish();
        } else {
          finish(new Error(`unexpected control message ${ctl}`));
        }
      } else if (!sent) {
        const err = check(msg, fromPage[pageGot], "page → server");
        if (err !== undefined) return finish(new Error(err));
        pageGot++;
      } else {
        const err = check(msg, fromServer[echoGot], "server → page → server");
        if (err !== undefined) return finish(new Error(err));
        echoGot++;
      }
    } else if (ev === MG_EV_CLOSE && c.isWebsocket && !settled) {
      finish(new Error("the WebSocket closed before the exchange was done"));
    }
  };
  const progress = () =>
    `page messages checked: ${pageGot}/${fromPage.length}, ` +
    `echoes checked: ${echoGot}/${fromServer.length}`;
  return { result, handler, progress };
}

// ---- chromium ----------------------------------------------------------------------------

interface Browser {
  proc: ChildProcess;
  exited: Promise<void>;
  /**
   * Sends `sig` to the browser process (ours only) unless it has exited.
   * process.kill, not proc.kill: Deno's node:child_process ignores a second
   * proc.kill (SIGKILL after SIGTERM).
   */
  signal(sig: NodeJS.Signals): void;
  /** The end of its stderr, for error messages. */
  log(): string;
  profile: string;
}

function launch(url: string): Browser {
  const profile = mkdtempSync(join(tmpdir(), "wasmgoose-chromium-"));
  // Chromium keeps its singleton socket in a directory of its own under
  // TMPDIR, and a browser stopped by a signal leaves it behind: inside the
  // profile, it goes with the profile
  const tmp = join(profile, "tmp");
  mkdirSync(tmp);
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
    url,
  ], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, TMPDIR: tmp } });
  let err = "";
  proc.stderr?.setEncoding("utf8");
  proc.stderr?.on("data", (s: string) => {
    // keep the end, without the D-Bus complaints of a machine without D-Bus
    err = (err + s).split("\n").filter((l) => !/dbus/i.test(l)).join("\n").slice(-4000);
  });
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      gone = true;
      resolve();
    };
    proc.once("exit", done);
    proc.once("error", (e) => { // spawn failed: there will be no "exit"
      err += `\nspawn failed: ${e.message}`;
      if (proc.pid === undefined) done();
    });
  });
  const signal = (sig: NodeJS.Signals) => {
    if (!gone && proc.pid !== undefined) process.kill(proc.pid, sig);
  };
  return { proc, exited, signal, log: () => err, profile };
}

/** Stops the browser we started (SIGTERM, then SIGKILL), waits, removes its profile. */
async function stop(b: Browser): Promise<void> {
  const { proc } = b;
  if (proc.pid !== undefined) {
    b.signal("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        b.signal("SIGKILL");
        resolve();
      }, 5000);
    });
    await Promise.race([b.exited, killed]);
    await b.exited;
    clearTimeout(timer);
  }
  await removeDir(b.profile);
}

/**
 * Removes `dir`, polling while it fails: Chromium's helper processes may
 * still write to the profile for a moment after the browser process exited.
 */
async function removeDir(dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// ---- the test ------------------------------------------------------------------------------

test("browser: headless Chromium exchanges text and binary, 0 B to 1 MiB, both ways", async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} not found (apt-get install chromium)`);
    return;
  }
  const ex = exchange();
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  let browser: Browser | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const lsn = mgr.listen("http://127.0.0.1:0", ex.handler);
    const port = Number(lsn.localAddr.split(":").pop());
    assert.ok(port > 0, `listener has a real port: ${lsn.localAddr}`);
    const b = (browser = launch(`http://127.0.0.1:${port}/`));
    const early = b.exited.then(() => {
      throw new Error(
        `chromium exited early (code ${b.proc.exitCode}, signal ${b.proc.signalCode})\n${b.log()}`,
      );
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new Error(
            `timeout after ${TIMEOUT_MS} ms (${ex.progress()})\nchromium stderr:\n${b.log()}`,
          ),
        );
      }, TIMEOUT_MS);
    });
    early.catch(() => {}); // raced below; not an unhandled rejection after success
    await Promise.race([ex.result, early, timeout]);
  } finally {
    clearTimeout(timer);
    try {
      if (browser !== undefined) await stop(browser);
    } finally {
      mgr.close();
    }
  }
});
