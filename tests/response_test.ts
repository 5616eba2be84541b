// The light Response of serve() on Node (src/response.ts): the class against the
// runtime's own Response on every runtime (status, headers, bodies, clone,
// errors, instanceof both ways), and on Node a serve() whose handlers return
// light responses, read by fetch and by a raw socket. Runs on Deno and, compiled
// by tsc, on Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve } from "../mod.ts";
import { installLightResponse, makeLightResponse, partsOf } from "../src/response.ts";

const Native = globalThis.Response;
const g = globalThis as {
  Deno?: unknown;
  Bun?: unknown;
  process?: { versions?: { node?: string } };
};
const ON_NODE = g.Deno === undefined && g.Bun === undefined &&
  g.process?.versions?.node !== undefined;
const Light = makeLightResponse(Native);

test("light Response: same answers as the runtime's own", async () => {
  const cases: Array<[BodyInit | null | undefined, ResponseInit | undefined]> = [
    ["hello", undefined],
    ["é ü", { status: 201, statusText: "Made", headers: { "X-A": "1" } }],
    [new Uint8Array([1, 2, 3]), { headers: [["content-type", "application/x-y"], ["x-b", "2"]] }],
    [null, { status: 204 }],
    [undefined, { status: 404, headers: { "Content-Type": "text/html" } }],
    ["s", { headers: new Headers({ "x-h": "v" }) }],
    [new Blob(["blob"]), undefined],
    [new URLSearchParams({ a: "1 2" }), undefined],
  ];
  for (const [body, init] of cases) {
    const a = new Light(body, init), b = new Native(body, init);
    assert.equal(a.status, b.status);
    assert.equal(a.statusText, b.statusText);
    assert.equal(a.ok, b.ok);
    assert.equal(a.bodyUsed, false);
    assert.deepEqual([...a.headers], [...b.headers]);
    assert.equal(await a.text(), await b.text());
    assert.equal(a.bodyUsed, b.bodyUsed);
    assert.ok(a instanceof Native);
    assert.ok(a instanceof Light);
    assert.ok(b instanceof Light, "a real Response is an instance of the light class too");
  }
  const j = Light.json({ k: [1, "x"] }, { status: 202, headers: { "x-j": "1" } });
  const jn = Native.json({ k: [1, "x"] }, { status: 202, headers: { "x-j": "1" } });
  // Bun's own says "application/json;charset=utf-8"; the light one (Node only)
  // says "application/json", as Node's and Deno's do
  assert.deepEqual([...j.headers].filter(([k]) => k !== "content-type"), [["x-j", "1"]]);
  assert.equal(j.headers.get("content-type"), "application/json");
  assert.match(jn.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await j.json(), { k: [1, "x"] });
  const typed = Light.json(1, { headers: { "Content-Type": "application/vnd.x+json" } });
  assert.equal(typed.headers.get("content-type"), "application/vnd.x+json");
  const c = new Light("twice");
  const c2 = c.clone();
  assert.equal(await c.text(), "twice");
  assert.equal(await c2.text(), "twice");
  assert.equal(new Uint8Array(await new Light("ab").arrayBuffer()).length, 2);
  assert.equal(await (await new Light("blob").blob()).text(), "blob");
  assert.equal(Light.redirect("http://x/", 302).status, 302);
  assert.equal(Light.error().type, "error");
});

test("light Response: the runtime's errors", () => {
  assert.throws(() => new Light("x", { status: 99 }), RangeError);
  assert.throws(() => new Light("x", { status: 600 }), RangeError);
  assert.throws(() => new Light("x", { status: 204 }), TypeError);
  assert.throws(() => new Light("x", { statusText: "a\nb" }), TypeError);
  assert.throws(() => new Light("x", { headers: { "bad name": "v" } }), TypeError);
  assert.throws(() => new Light("x", { headers: { a: "v\r\nx: y" } }), TypeError);
  assert.throws(() => Light.json(undefined), TypeError);
  assert.throws(() => Light.json(1n), TypeError);
});

test("light Response: what serve() sends without building the real one", () => {
  const r = new Light("hi", { status: 201, headers: { "x-a": "1" } });
  assert.deepEqual(partsOf(r), {
    status: 201,
    body: "hi",
    headers: { "x-a": "1" },
    defaultType: "text/plain;charset=UTF-8",
  });
  const j = Light.json({ a: 1 });
  assert.deepEqual(partsOf(j)?.headers, { "Content-Type": "application/json" });
  r.headers.get("x-a"); // builds the real one: from now on it is sent as a real one
  assert.equal(partsOf(r), undefined);
  assert.equal(partsOf(new Native("x")), undefined);
  assert.equal(partsOf(new Light(new Blob(["x"]))), undefined);
});

test("light Response: installed by serve() on Node only; served as made", async () => {
  const s = serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const u = new URL(req.url);
    switch (u.pathname) {
      case "/text":
        return new Response("plain é");
      case "/json":
        return Response.json({ ok: true }, { status: 201, statusText: "Made" });
      case "/bytes":
        return new Response(new Uint8Array([104, 105]), {
          headers: [["Content-Type", "application/x-hi"], ["Set-Cookie", "a=1"], [
            "Set-Cookie",
            "b=2",
          ]],
        });
      case "/url":
        return new Response(req.url);
      case "/empty":
        return new Response(null, { status: 204, headers: { "X-E": "1" } });
      case "/made": {
        // A light one made real before it is returned (as middleware does)
        const r = Response.json({ made: true }, { status: 202 });
        r.headers.set("x-made", "1");
        return r;
      }
      default:
        return new Response("nope", { status: 404, headers: { "content-type": "text/x-nope" } });
    }
  });
  try {
    assert.equal(globalThis.Response !== Native, ON_NODE);
    assert.equal(installLightResponse(), ON_NODE);
    const base = `http://127.0.0.1:${s.addr.port}`;
    let res = await fetch(`${base}/text`);
    // Bun's own Response keeps a text body's type to itself (docs/serve.md, known gaps)
    if (g.Bun === undefined) {
      assert.equal(res.headers.get("content-type"), "text/plain;charset=UTF-8");
    }
    assert.equal(await res.text(), "plain é");
    res = await fetch(`${base}/json`);
    assert.equal(res.status, 201);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json(;charset=utf-8)?$/);
    assert.deepEqual(await res.json(), { ok: true });
    res = await fetch(`${base}/bytes`);
    assert.equal(res.headers.get("content-type"), "application/x-hi");
    assert.equal(await res.text(), "hi");
    res = await fetch(`${base}/made`);
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("x-made"), "1");
    assert.deepEqual(await res.json(), { made: true });
    res = await fetch(`${base}/nowhere`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "text/x-nope");
    assert.equal(await res.text(), "nope");
    // The raw bytes: framing, both cookies, no body for 204 and HEAD
    const raw = await rawRequests(
      s.addr.port,
      "GET /empty HTTP/1.1\r\nHost: x\r\n\r\nHEAD /text HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /bytes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.match(raw, /^HTTP\/1\.1 204 No Content\r\n(?:.*\r\n)*?X-E: 1\r\n/i);
    assert.match(raw, /HTTP\/1\.1 200 OK\r\n(?:.*\r\n)*?Content-Length: 8\r\n\r\nHTTP\/1\.1 200/);
    assert.match(raw, /Set-Cookie: a=1\r\n/i);
    assert.match(raw, /Set-Cookie: b=2\r\n/i);
    assert.match(raw, /Content-Length: 2\r\n\r\nhi$/);
    // req.url: the Host header, else the listening address
    const u = await rawRequests(
      s.addr.port,
      "GET /url?a=1 HTTP/1.1\r\nhOsT: example.test:81\r\n\r\nGET /url HTTP/1.0\r\n\r\n",
    );
    assert.match(u, /\r\n\r\nhttp:\/\/example\.test:81\/url\?a=1HTTP\/1\.1 200/);
    assert.ok(u.endsWith(`\r\n\r\nhttp://127.0.0.1:${s.addr.port}/url`), u);
  } finally {
    await s.shutdown();
  }
});

function rawRequests(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1", () => sock.write(text));
    let out = "";
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => (out += d));
    sock.on("end", () => resolve(out));
    sock.on("error", reject);
  });
}
