// Request bodies: multipart/form-data parts (fetch with FormData, curl -F),
// urlencoded form variables, and credentials (curl -u, Bearer, access_token).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./tls_certs.ts";
import {
  type EventHandler,
  type HttpMessage,
  type HttpPart,
  Manager,
  MG_EV_HTTP_MSG,
} from "../mod.ts";

interface PartInfo {
  name: string;
  filename: string | null;
  size: number;
  text: string | null;
  sum: number;
}

/** A byte checksum (order-sensitive) to compare bodies. */
function sum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s = (s * 31 + b[i]) >>> 0;
  return s;
}

let kept: HttpPart | undefined;
let keptIter: Iterator<HttpPart> | undefined;

const handler: EventHandler = (c, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG) return;
  const hm = data as HttpMessage;
  if (hm.uri === "/parts") {
    const parts: PartInfo[] = [];
    for (const p of hm.parts()) {
      kept = p;
      parts.push({
        name: p.name,
        filename: p.filename ?? null,
        size: p.body.length,
        text: p.filename === undefined ? p.text() : null,
        sum: sum(p.body),
      });
    }
    keptIter = hm.parts();
    c.replyJson({ type: hm.header("content-type") ?? "", parts });
  } else if (hm.uri === "/form") {
    c.replyJson({
      a: hm.formVar("a") ?? null,
      note: hm.formVar("note") ?? null,
      none: hm.formVar("none") ?? null,
    });
  } else if (hm.uri === "/creds") {
    c.replyJson(hm.creds());
  } else {
    c.reply(404);
  }
};

async function withServer(fn: (url: string) => Promise<void>): Promise<void> {
  const mgr = new Manager();
  try {
    const lsn = mgr.listen("http://127.0.0.1:0", handler);
    await fn(`http://127.0.0.1:${lsn.localAddr.split(":").pop()}`);
  } finally {
    mgr.close();
  }
}

test("fetch with FormData: fields and files, binary and unicode", async () => {
  await withServer(async (url) => {
    const bin = new Uint8Array(200000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7 + (i >> 8)) & 255;
    const fd = new FormData();
    fd.append("title", "héllo wörld");
    fd.append("upload", new Blob([bin]), "data.bin");
    fd.append("note", "line1\r\nline2\r\n--x");
    fd.append("empty", new Blob([]), "empty.txt");
    fd.append("utf", new Blob(["ü"]), "ümlaut.txt");
    const r = await fetch(url + "/parts", { method: "POST", body: fd });
    assert.equal(r.status, 200);
    const j = await r.json() as { type: string; parts: PartInfo[] };
    assert.match(j.type, /^multipart\/form-data; boundary=/);
    assert.deepEqual(j.parts.map((p) => [p.name, p.filename, p.size]), [
      ["title", null, 13],
      ["upload", "data.bin", 200000],
      ["note", null, 17],
      ["empty", "empty.txt", 0],
      ["utf", "ümlaut.txt", 2],
    ]);
    assert.equal(j.parts[0].text, "héllo wörld");
    assert.equal(j.parts[1].sum, sum(bin));
    assert.equal(j.parts[2].text, "line1\r\nline2\r\n--x");
  });
});

test("curl -F: fields and a file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wasmgoose-mp-"));
  try {
    const file = join(dir, "report.csv");
    const content = "a,b\n1,2\n".repeat(1000);
    writeFileSync(file, content);
    await withServer(async (url) => {
      const out = await run("curl", [
        "-sS",
        "-F",
        "user=ann",
        "-F",
        `doc=@${file};type=text/csv`,
        "-F",
        "n=42",
        url + "/parts",
      ]);
      const j = JSON.parse(out) as { parts: PartInfo[] };
      assert.deepEqual(j.parts.map((p) => [p.name, p.filename, p.size, p.text]), [
        ["user", null, 3, "ann"],
        ["doc", "report.csv", content.length, null],
        ["n", null, 2, "42"],
      ]);
      assert.equal(j.parts[1].sum, sum(new TextEncoder().encode(content)));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("not multipart or malformed: no parts; a part is dead after the callback", async () => {
  await withServer(async (url) => {
    for (const body of ["plain text", "--b\r\nA: 1\r\n\r\nno end", ""]) {
      const r = await fetch(url + "/parts", { method: "POST", body });
      assert.deepEqual((await r.json() as { parts: unknown[] }).parts, [], body);
    }
    // a kept HttpPart keeps its strings; an iterator cannot go on after the callback
    const fd = new FormData();
    fd.append("k", "v");
    await fetch(url + "/parts", { method: "POST", body: fd }).then((r) => r.text());
    assert.equal(kept?.name, "k");
    assert.throws(() => keptIter?.next(), /used after its event callback returned/);
  });
});

test("formVar: urlencoded bodies", async () => {
  await withServer(async (url) => {
    const r = await fetch(url + "/form", {
      method: "POST",
      body: new URLSearchParams({ a: "1 & 2", note: "héllo+wörld" }),
    });
    assert.deepEqual(await r.json(), { a: "1 & 2", note: "héllo+wörld", none: null });
  });
});

test("creds: curl -u, Bearer, access_token in the query and in a cookie", async () => {
  await withServer(async (url) => {
    const basic = await run("curl", ["-sS", "-u", "alice:s3cr:et", url + "/creds"]);
    assert.deepEqual(JSON.parse(basic), { user: "alice", pass: "s3cr:et" });
    const bearer = await fetch(url + "/creds", { headers: { Authorization: "Bearer tok.123" } });
    assert.deepEqual(await bearer.json(), { user: "", pass: "tok.123" });
    const q = await fetch(url + "/creds?x=1&access_token=qtok");
    assert.deepEqual(await q.json(), { user: "", pass: "qtok" });
    const cookie = await fetch(url + "/creds", { headers: { Cookie: "a=b; access_token=ctok" } });
    assert.deepEqual(await cookie.json(), { user: "", pass: "ctok" });
    const none = await fetch(url + "/creds");
    assert.deepEqual(await none.json(), { user: "", pass: "" });
  });
});
