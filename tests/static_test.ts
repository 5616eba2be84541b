// Static files and uploads: conn.serveDir / serveFile / upload / uploadChunk
// and the CLI's --root, against real clients (fetch, curl, raw sockets) on Deno
// and Node. Only node:* modules, so this file runs on both runtimes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { Raw } from "./raw_client.ts";
import {
  type EventHandler,
  type HttpMessage,
  Manager,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
} from "../mod.ts";

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

// ---- fixtures ---------------------------------------------------------------------
const top = fs.mkdtempSync(join(tmpdir(), "wasmgoose-static-"));
const root = join(top, "www");
const updir = join(top, "up");
const piecedir = join(top, "pieces");
const SECRET = "TOP-SECRET-0xC0FFEE";
const GIB = 1 << 30;
const JS = "console.log('plain javascript, served gzipped when asked');\n".repeat(20);
const WEIRD = `a<b> &"'.txt`;
fs.mkdirSync(join(root, "sub"), { recursive: true });
fs.mkdirSync(join(root, "docs"));
fs.mkdirSync(updir);
fs.mkdirSync(piecedir);
fs.writeFileSync(join(root, "hello.txt"), "hello, static world\n");
fs.writeFileSync(join(root, "sub", "index.html"), "<h1>sub index</h1>\n");
fs.writeFileSync(join(root, "docs", "one.txt"), "one\n");
fs.writeFileSync(join(root, "docs", WEIRD), "weird\n");
fs.writeFileSync(join(root, "404.html"), "<h1>custom not found</h1>\n");
fs.writeFileSync(join(root, "app.js"), JS);
fs.writeFileSync(join(root, "app.js.gz"), gzipSync(JS));
fs.writeFileSync(join(root, "data.bin"), bytes(200_000));
fs.writeFileSync(join(top, "secret.txt"), SECRET);
// For Chromium: a page that opens the /docs/ listing in a frame, lists its
// links, follows the one with the odd name and shows what it leads to.
fs.writeFileSync(
  join(root, "nav.html"),
  `<!DOCTYPE html><html><body><iframe id="f" src="/docs/"></iframe><script>
const f = document.getElementById("f");
let step = 0;
f.onload = () => {
  const d = f.contentDocument;
  if (step++ === 0) {
    const links = Array.from(d.querySelectorAll("a"));
    const out = document.createElement("p");
    out.id = "links";
    out.textContent = links.map((a) => a.textContent).join("|");
    document.body.appendChild(out);
    links.find((a) => a.textContent === ${JSON.stringify(WEIRD)}).click();
  } else {
    const out = document.createElement("p");
    out.id = "result";
    out.textContent = "GOT:" + d.body.textContent.trim() + " AT:" + f.contentWindow.location.pathname;
    document.body.appendChild(out);
  }
};
</script></body></html>`,
);
// For Chromium: a page that uploads a 300,000-byte Blob in 64 KiB pieces
// (POST /upload?file=&offset=, as Mongoose's browser examples do) and shows
// the last answer, or the first failure.
fs.writeFileSync(
  join(root, "pieces.html"),
  `<!DOCTYPE html><html><body><script>
(async () => {
  const data = new Uint8Array(300000).map((_, i) => (i * 7 + (i >> 8)) & 255);
  const blob = new Blob([data]), PIECE = 65536;
  const out = document.createElement("p");
  out.id = "pieces";
  let last = "";
  try {
    for (let off = 0; off < blob.size; off += PIECE) {
      const r = await fetch("/upload?file=browser.bin&offset=" + off,
        { method: "POST", body: blob.slice(off, off + PIECE) });
      last = r.status + " " + (await r.text()).trim();
      if (r.status !== 200) break;
    }
  } catch (e) {
    last = "error " + e;
  }
  out.textContent = last;
  document.body.appendChild(out);
})();
</script></body></html>`,
);
{
  // 1 GiB, sparse: no disk space used
  const fd = fs.openSync(join(root, "huge.bin"), "w");
  fs.ftruncateSync(fd, GIB);
  fs.closeSync(fd);
}

function bytes(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 255;
  return b;
}

// ---- servers and clients --------------------------------------------------------------
interface Server {
  mgr: Manager;
  port: number;
  url: string;
}

/** What the last `uploadChunk` returned. */
let pieceResult: number | undefined;

/**
 * serveDir on root (page404 under /p404/), PUT uploads into updir, POST
 * /upload?file=&offset= pieces into piecedir (6 MiB at most).
 */
const handler: EventHandler = (c, ev, data) => {
  const hm = data as HttpMessage;
  if (ev === MG_EV_HTTP_HDRS) {
    if (hm.method === "PUT") c.upload(hm, { dir: updir, maxSize: 8 << 20 });
    return;
  }
  if (ev !== MG_EV_HTTP_MSG || hm.method === "PUT") return;
  if (hm.method === "POST" && hm.uri === "/upload") {
    pieceResult = c.uploadChunk(hm, { dir: piecedir, maxSize: 6 << 20 });
  } else if (hm.uri === "/the-secret") {
    c.serveFile(hm, join(top, "secret.txt"), { extraHeaders: { "X-File": "yes" } });
  } else {
    c.serveDir(hm, {
      rootDir: root,
      extraHeaders: { "X-Served-By": "wasmgoose" },
      mimeTypes: { bin: "application/x-test-bin" },
      page404: hm.uri.startsWith("/p404/") ? join(root, "404.html") : undefined,
    });
  }
};

async function withServer(fn: (s: Server) => Promise<void>): Promise<void> {
  const mgr = new Manager();
  const lsn = mgr.listen("http://127.0.0.1:0", handler, {
    events: [MG_EV_HTTP_HDRS, MG_EV_HTTP_MSG],
  });
  const port = Number(lsn.localAddr.split(":").pop());
  try {
    await fn({ mgr, port, url: `http://127.0.0.1:${port}` });
  } finally {
    mgr.close();
  }
}

interface CurlOut {
  code: number;
  out: string;
  err: string;
}

function curl(args: string[]): Promise<CurlOut> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-s", "--max-time", "60", ...args],
      { encoding: "latin1", maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

/** Status line and headers of `curl -i` output (the last response). */
function head(out: string): { status: number; headers: Map<string, string>; body: string } {
  let pos = 0;
  let end = out.indexOf("\r\n\r\n");
  while (/^HTTP\/1\.1 1\d\d /.test(out.slice(pos))) { // skip 100 Continue
    pos = end + 4;
    end = out.indexOf("\r\n\r\n", pos);
  }
  const lines = out.slice(pos, end).split("\r\n");
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { status: Number(lines[0].split(" ")[1]), headers, body: out.slice(end + 4) };
}

/** One request on a raw socket (the path is sent exactly as given). */
async function raw(port: number, request: string): Promise<string> {
  const r = new Raw(port);
  try {
    r.write(request);
    await r.until(() => r.responses().length >= 1 || r.closed, "a response");
    return r.buf;
  } finally {
    r.destroy();
  }
}

function rss(): number {
  return (globalThis as { process: { memoryUsage(): { rss: number } } }).process.memoryUsage()
    .rss;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- tests --------------------------------------------------------------------------------
test("fetch: files, MIME types, extra headers, index.html, redirect, 404, page404", async () => {
  await withServer(async ({ url }) => {
    let r = await fetch(url + "/hello.txt");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(r.headers.get("x-served-by"), "wasmgoose");
    assert.equal(r.headers.get("accept-ranges"), "bytes");
    assert.match(r.headers.get("etag") ?? "", /^"[0-9a-f]+\.[0-9a-f]+"$/);
    assert.match(r.headers.get("last-modified") ?? "", /^\w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT$/);
    assert.equal(await r.text(), "hello, static world\n");

    r = await fetch(url + "/data.bin");
    assert.equal(r.headers.get("content-type"), "application/x-test-bin");
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), bytes(200_000));

    r = await fetch(url + "/sub", { redirect: "manual" });
    assert.equal(r.status, 301);
    assert.equal(r.headers.get("location"), "/sub/");
    await r.body?.cancel();
    r = await fetch(url + "/sub"); // followed
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "<h1>sub index</h1>\n");

    r = await fetch(url + "/nope.txt");
    assert.equal(r.status, 404);
    assert.equal(r.headers.get("x-served-by"), "wasmgoose");
    await r.body?.cancel();
    r = await fetch(url + "/p404/nope.txt");
    assert.equal(r.status, 404);
    assert.equal(await r.text(), "<h1>custom not found</h1>\n");

    r = await fetch(url + "/the-secret");
    assert.equal(r.headers.get("x-file"), "yes");
    assert.equal(await r.text(), SECRET);

    r = await fetch(url + "/hello.txt", { method: "DELETE" });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get("allow"), "GET, HEAD");
    await r.body?.cancel();
  });
});

test("fetch: directory listing with escaped names and encoded links", async () => {
  await withServer(async ({ url }) => {
    const r = await fetch(url + "/docs/");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await r.text();
    assert.match(html, /<title>Index of \/docs\/<\/title>/);
    assert.ok(html.includes('<a href="../">../</a>'), html);
    assert.ok(html.includes('<a href="one.txt">one.txt</a>'), html);
    assert.ok(
      html.includes('<a href="a%3Cb%3E%20%26%22%27.txt">a&lt;b&gt; &amp;&quot;&#39;.txt</a>'),
      html,
    );
    assert.ok(!html.includes("<b>"), "no unescaped markup");
    // the encoded link leads to the file
    const f = await fetch(url + "/docs/a%3Cb%3E%20%26%22%27.txt");
    assert.equal(await f.text(), "weird\n");
  });
});

test("curl: ranges (206, 416), HEAD", async () => {
  await withServer(async ({ url }) => {
    let c = await curl(["-i", "-r", "7-12", url + "/hello.txt"]);
    let h = head(c.out);
    assert.equal(h.status, 206);
    assert.equal(h.headers.get("content-range"), "bytes 7-12/20");
    assert.equal(h.body, "static");
    c = await curl(["-i", "-r", "-6", url + "/hello.txt"]);
    assert.equal(head(c.out).body, "world\n");
    c = await curl(["-i", "-r", "100-", url + "/hello.txt"]);
    h = head(c.out);
    assert.equal(h.status, 416);
    assert.equal(h.headers.get("content-range"), "bytes */20");
    // a range far into the 1 GiB file
    c = await curl(["-i", "-r", `${GIB - 10}-`, url + "/huge.bin"]);
    h = head(c.out);
    assert.equal(h.status, 206);
    assert.equal(h.headers.get("content-range"), `bytes ${GIB - 10}-${GIB - 1}/${GIB}`);
    assert.equal(h.body, "\0".repeat(10));
    c = await curl(["-I", url + "/huge.bin"]);
    h = head(c.out);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get("content-length"), String(GIB));
    assert.equal(h.body, "");
  });
});

test("curl: ETag + If-None-Match and If-Modified-Since give 304", async () => {
  await withServer(async ({ url }) => {
    const first = head((await curl(["-i", url + "/hello.txt"])).out);
    const etag = first.headers.get("etag") as string;
    const lm = first.headers.get("last-modified") as string;
    let h = head((await curl(["-i", "-H", `If-None-Match: ${etag}`, url + "/hello.txt"])).out);
    assert.equal(h.status, 304);
    assert.equal(h.headers.get("etag"), etag);
    assert.equal(h.body, "");
    h = head((await curl(["-i", "-H", `If-None-Match: "other"`, url + "/hello.txt"])).out);
    assert.equal(h.status, 200);
    h = head((await curl(["-i", "-H", `If-Modified-Since: ${lm}`, url + "/hello.txt"])).out);
    assert.equal(h.status, 304);
  });
});

test("curl: precompressed file.gz with Content-Encoding: gzip", async () => {
  await withServer(async ({ url }) => {
    let c = await curl(["-i", "--compressed", url + "/app.js"]);
    let h = head(c.out);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get("content-encoding"), "gzip");
    assert.equal(h.headers.get("vary"), "Accept-Encoding");
    assert.equal(h.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(h.body, JS); // curl decompressed it
    c = await curl(["-i", url + "/app.js"]); // no Accept-Encoding
    h = head(c.out);
    assert.equal(h.headers.get("content-encoding"), undefined);
    assert.equal(h.body, JS);
  });
});

test("raw sockets: traversal attempts get 400/404 and no byte from outside the root", async () => {
  const attempts = [
    "/../secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/.%2e/secret.txt",
    "/sub/../../secret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "/sub%2f..%2f..%2fsecret.txt",
    "/%00/../secret.txt",
    "/hello.txt%00.html",
    "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/../../../../../../etc/passwd",
    "/..",
    "/%",
  ];
  await withServer(async ({ port }) => {
    for (const p of attempts) {
      const out = await raw(port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const status = Number(out.split(" ")[1]);
      assert.ok(status === 400 || status === 404, `${p}: ${out.slice(0, 40)}`);
      assert.ok(!out.includes(SECRET) && !out.includes("root:"), `${p} leaked`);
    }
  });
});

test("raw socket: keep-alive and pipelining order with streamed files", async () => {
  await withServer(async ({ port }) => {
    const r = new Raw(port);
    try {
      r.write(
        "GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n" +
          "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n" +
          "GET /hello.txt HTTP/1.1\r\nRange: bytes=0-4\r\nHost: x\r\n\r\n",
      );
      const [a, b, c] = await r.waitResponses(3);
      assert.equal(a.status, 200);
      assert.equal(a.body.length, 200_000);
      const want = Array.from(bytes(200_000), (x) => String.fromCharCode(x)).join("");
      assert.ok(a.body === want, "the bytes of data.bin, in order");
      assert.equal(b.body, "hello, static world\n");
      assert.equal(c.status, 206);
      assert.equal(c.body, "hello");
      assert.ok(!r.closed, "kept alive");
    } finally {
      r.destroy();
    }
  });
});

test("a client that closes mid-file: the file is closed, the server goes on", async (t) => {
  if (!fs.existsSync("/proc/self/fd")) return t.skip("no /proc/self/fd");
  const openHuge = () =>
    fs.readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith("huge.bin");
      } catch {
        return false;
      }
    }).length;
  await withServer(async ({ port, url }) => {
    const before = openHuge();
    const r = new Raw(port);
    r.write("GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    await r.until(() => r.buf.length > 100_000, "some of the file");
    assert.equal(openHuge(), before + 1, "the file is open while it is sent");
    r.destroy();
    const deadline = Date.now() + 5000;
    while (openHuge() > before && Date.now() < deadline) await sleep(20);
    assert.equal(openHuge(), before, "closed with the connection");
    assert.equal(await (await fetch(url + "/hello.txt")).text(), "hello, static world\n");
  });
});

test("1 GiB file: complete to curl, and RSS stays bounded for a slow reader", async () => {
  await withServer(async ({ url }) => {
    const base = rss();
    let peak = base;
    const timer = setInterval(() => (peak = Math.max(peak, rss())), 50);
    try {
      // a slow reader (curl at 20 MB/s for 3 s), then a fast complete download
      const slow = await curl([
        "--limit-rate",
        "20M",
        "--max-time",
        "3",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        url + "/huge.bin",
      ]);
      assert.equal(slow.code, 28, "stopped by --max-time"); // curl: operation timed out
      const got = Number(slow.out);
      assert.ok(got > 1_000_000 && got < GIB, `slow reader got ${got} bytes`);
      const full = await curl([
        "-o",
        "/dev/null",
        "-w",
        "%{size_download} %{http_code}",
        url + "/huge.bin",
      ]);
      assert.equal(full.code, 0, full.err);
      assert.equal(full.out, `${GIB} 200`);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, rss());
    const growth = (peak - base) / (1 << 20);
    console.log(`1 GiB served: RSS grew by ${growth.toFixed(1)} MiB`);
    assert.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MiB while serving 1 GiB`);
  });
});

test("uploads: streamed to disk beyond MG_MAX_RECV_SIZE, size cap 413, safe names", async () => {
  await withServer(async ({ url }) => {
    const src = join(top, "upload-src.bin");
    const data = bytes(5 << 20); // 5 MiB > MG_MAX_RECV_SIZE (3 MiB)
    fs.writeFileSync(src, data);
    let c = await curl(["-i", "-T", src, url + "/files/big.bin"]);
    const h = head(c.out);
    assert.equal(h.status, 201, c.out.slice(0, 200));
    assert.deepEqual(JSON.parse(h.body), { name: "big.bin", size: 5 << 20 });
    assert.deepEqual(new Uint8Array(fs.readFileSync(join(updir, "big.bin"))), data);

    c = await curl(["-i", "-T", src, url + "/x?name=renamed%20file.bin"]);
    assert.equal(head(c.out).status, 201);
    assert.equal(fs.statSync(join(updir, "renamed file.bin")).size, 5 << 20);

    // over the cap (8 MiB): 413, nothing written
    const tooBig = join(top, "too-big.bin");
    fs.writeFileSync(tooBig, new Uint8Array((8 << 20) + 1));
    c = await curl(["-i", "-T", tooBig, url + "/files/too-big.bin"]);
    assert.equal(head(c.out).status, 413);
    assert.ok(!fs.existsSync(join(updir, "too-big.bin")));

    // names with path components
    for (const bad of ["/x?name=..%2fescape.bin", "/x?name=.hidden", "/x?name=a%5cb", "/dir/"]) {
      c = await curl(["-i", "-X", "PUT", "--data-binary", "x", url + bad]);
      assert.equal(head(c.out).status, 400, bad);
    }
    assert.ok(!fs.existsSync(join(top, "escape.bin")));
    assert.deepEqual(fs.readdirSync(updir).sort(), ["big.bin", "renamed file.bin"]);
  });
});

test("uploads in pieces (uploadChunk): appended by offset, resumable after 409, capped, safe names", async () => {
  await withServer(async ({ url }) => {
    const data = bytes(5 << 20), MIB = 1 << 20;
    const post = async (query: string, body: Uint8Array<ArrayBuffer>) => {
      const r = await fetch(`${url}/upload?${query}`, { method: "POST", body });
      return { status: r.status, json: await r.json().catch(() => null) };
    };
    // 5 MiB in 1 MiB pieces, each its own request (fetch)
    for (let off = 0; off < data.length; off += MIB) {
      const r = await post(`file=big%20one.bin&offset=${off}`, data.subarray(off, off + MIB));
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { name: "big one.bin", size: off + MIB });
      assert.equal(pieceResult, MIB);
    }
    assert.deepEqual(new Uint8Array(fs.readFileSync(join(piecedir, "big one.bin"))), data);

    // a piece sent twice (its answer lost): 409 with the size to resume from
    let r = await post("file=big%20one.bin&offset=" + 4 * MIB, data.subarray(4 * MIB));
    assert.equal(r.status, 409);
    assert.deepEqual(r.json, { name: "big one.bin", size: 5 * MIB });
    assert.equal(pieceResult, -1);
    assert.equal(fs.statSync(join(piecedir, "big one.bin")).size, 5 * MIB);

    // past maxSize (6 MiB): 413, the file unchanged
    r = await post(`file=big%20one.bin&offset=${5 * MIB}`, new Uint8Array(MIB + 1));
    assert.equal(r.status, 413);
    assert.equal(fs.statSync(join(piecedir, "big one.bin")).size, 5 * MIB);

    // offset 0 starts over; curl sends a piece too
    const small = join(top, "piece.txt");
    fs.writeFileSync(small, "second life\n");
    const c = await curl([
      "-i",
      "--data-binary",
      "@" + small,
      url + "/upload?file=big%20one.bin&offset=0",
    ]);
    assert.equal(head(c.out).status, 200);
    assert.deepEqual(JSON.parse(head(c.out).body), { name: "big one.bin", size: 12 });
    assert.equal(fs.readFileSync(join(piecedir, "big one.bin"), "utf8"), "second life\n");

    // bad names and offsets: 400, nothing written anywhere
    for (
      const q of [
        "offset=0",
        "file=..%2fescape.bin&offset=0",
        "file=.hidden&offset=0",
        "file=x.bin",
      ]
    ) {
      r = await post(q, new Uint8Array(3));
      assert.equal(r.status, 400, q);
    }
    assert.ok(!fs.existsSync(join(top, "escape.bin")));
    assert.deepEqual(fs.readdirSync(piecedir), ["big one.bin"]);
  });
});

test("uploadChunk: bad options throw before anything is written", async () => {
  const mgr = new Manager();
  const errors: string[] = [];
  const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    for (const opts of [{ dir: "" }, { dir: "a\nb" }, { dir: piecedir, maxSize: -1 }]) {
      try {
        c.uploadChunk(data as HttpMessage, opts);
      } catch (e) {
        errors.push((e as Error).name);
      }
    }
    c.reply(204);
  });
  try {
    const port = Number(lsn.localAddr.split(":").pop());
    const r = await fetch(`http://127.0.0.1:${port}/upload?file=opt.bin&offset=0`, {
      method: "POST",
      body: "x",
    });
    assert.equal(r.status, 204);
    assert.deepEqual(errors, ["TypeError", "TypeError", "RangeError"]);
    assert.ok(!fs.existsSync(join(piecedir, "opt.bin")));
  } finally {
    mgr.close();
  }
});

test("CLI --root serves the directory (curl)", async () => {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const cmd = isDeno
    ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath()
    : process.execPath;
  const args = isDeno
    ? [
      "run",
      "--allow-net=127.0.0.1",
      `--allow-read=${root}`,
      "--no-prompt",
      join(here, "..", "mod.ts"),
    ]
    : [join(here, "..", "src", "bin.js")];
  const proc = spawn(cmd, [...args, "--listen", "http://127.0.0.1:0", "--root", root], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  proc.stderr.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  try {
    const deadline = Date.now() + 20000;
    while (!/listening on (http:\/\/\S+)/.test(out) && Date.now() < deadline) await sleep(50);
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    assert.ok(url !== undefined, `CLI did not start: ${out}`);
    let c = await curl(["-i", url + "/hello.txt"]);
    assert.equal(head(c.out).status, 200);
    assert.equal(head(c.out).body, "hello, static world\n");
    c = await curl(["-i", url + "/docs/"]);
    assert.ok(head(c.out).body.includes('<a href="one.txt">one.txt</a>'));
    c = await curl(["-i", "-r", "0-4", url + "/hello.txt"]);
    assert.equal(head(c.out).body, "hello");
    c = await curl(["-i", "--path-as-is", url + "/../secret.txt"]);
    assert.ok(!c.out.includes(SECRET));
  } finally {
    proc.kill("SIGTERM");
    await new Promise<void>((r) => proc.exitCode !== null ? r() : proc.once("exit", () => r()));
  }
});

test("CLI --root on Deno without read permission: a clear error, exit code 2", async (t) => {
  if (!isDeno) return t.skip("Deno permissions");
  const here = fileURLToPath(new URL(".", import.meta.url));
  const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath();
  const r = await new Promise<{ code: number; err: string }>((resolve) => {
    execFile(
      deno,
      [
        "run",
        "--allow-net=127.0.0.1",
        "--no-prompt",
        join(here, "..", "mod.ts"),
        "--listen",
        "http://127.0.0.1:0",
        "--root",
        root,
      ],
      { timeout: 30_000 },
      (err, _out, stderr) => {
        resolve({ code: err === null ? 0 : Number(err.code), err: stderr });
      },
    );
  });
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--root .*(read access|NotCapable|permission)/i);
});

const CHROMIUM = "/usr/bin/chromium";

/** The DOM of `url` after headless Chromium ran its scripts (10 s of virtual time). */
async function dumpDom(url: string): Promise<string> {
  const profile = fs.mkdtempSync(join(tmpdir(), "wasmgoose-chromium-"));
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(
        CHROMIUM,
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
          "--virtual-time-budget=10000",
          "--dump-dom",
          url,
        ],
        { timeout: 90_000, maxBuffer: 1 << 20, env: { ...process.env, TMPDIR: profile } },
        (err, stdout, stderr) => {
          if (err !== null && stdout === "") reject(new Error(`chromium: ${err}\n${stderr}`));
          else resolve(stdout);
        },
      );
    });
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** The text of `<p id="ID">` in a dumped DOM, unescaped. */
function domText(dom: string, id: string): string | undefined {
  return new RegExp(`<p id="${id}">([^<]*)</p>`).exec(dom)?.[1]?.replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"');
}

test("headless Chromium: a directory listing, and a link in it followed", async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} not found (apt-get install chromium)`);
  await withServer(async ({ url }) => {
    const dom = await dumpDom(url + "/nav.html");
    assert.equal(domText(dom, "links"), `../|${WEIRD}|one.txt`, dom);
    assert.equal(domText(dom, "result"), "GOT:weird AT:/docs/a%3Cb%3E%20%26%22%27.txt", dom);
  });
});

test("headless Chromium uploads a Blob in 64 KiB pieces (uploadChunk)", async (t) => {
  if (!fs.existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} not found (apt-get install chromium)`);
  await withServer(async ({ url }) => {
    const dom = await dumpDom(url + "/pieces.html");
    assert.equal(domText(dom, "pieces"), '200 {"name":"browser.bin","size":300000}', dom);
    const want = new Uint8Array(300000).map((_, i) => (i * 7 + (i >> 8)) & 255);
    assert.deepEqual(new Uint8Array(fs.readFileSync(join(piecedir, "browser.bin"))), want);
  });
});

test("cleanup", () => {
  fs.rmSync(top, { recursive: true, force: true });
});
