// The route table (literal segments before parameters, typed int/UUID/date
// parameters, a trailing '*', HEAD falling back to GET, percent-decoded
// values), Router.fetch and EventRouter.handler on a real server (fetch as
// the client), hm.queryVars() (split and decoded in C) against
// URLSearchParams, and the multipart splitter against FormData bodies made by
// the runtime. Runs on Deno and, compiled by tsc, on Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  EventRouter,
  Manager,
  MG_EV_HTTP_MSG,
  MG_LL_NONE,
  parseMultipart,
  parseVars,
  Router,
  RouteTable,
  serve,
} from "../mod.ts";

test("router: matching rules", () => {
  const t = new RouteTable<string>()
    .add("GET", "/", "root")
    .add("GET", "/users/me", "me")
    .add("GET", "/users/:id{int}", "int")
    .add("GET", "/users/:name", "name")
    .add("POST", "/users/:name", "post-name")
    .add("GET", "/u/:u{uuid}", "uuid")
    .add("GET", "/d/:d{date}", "date")
    .add("GET", "/files/*", "files")
    .add("*", "/any", "any")
    .add("GET", "/a/:x/b/:y", "ab");
  assert.deepEqual(t.match("GET", "/"), { handler: "root", params: {} });
  assert.deepEqual(t.match("GET", "/users/me"), { handler: "me", params: {} });
  assert.deepEqual(t.match("GET", "/users/42"), { handler: "int", params: { id: 42 } });
  assert.deepEqual(t.match("GET", "/users/-7"), { handler: "int", params: { id: -7 } });
  assert.deepEqual(t.match("GET", "/users/bob"), { handler: "name", params: { name: "bob" } });
  assert.deepEqual(t.match("GET", "/users/a%20b"), { handler: "name", params: { name: "a b" } });
  // An escaped segment is typed by its decoded value
  assert.deepEqual(t.match("GET", "/users/%34%32"), { handler: "int", params: { id: 42 } });
  assert.deepEqual(t.match("GET", "/d/2024%2D02%2D29"), {
    handler: "date",
    params: { d: "2024-02-29" },
  });
  assert.deepEqual(t.match("POST", "/users/x"), { handler: "post-name", params: { name: "x" } });
  assert.deepEqual(t.match("HEAD", "/users/me"), { handler: "me", params: {} });
  assert.equal(t.match("DELETE", "/users/x"), null);
  assert.equal(t.match("GET", "/users/"), null);
  assert.equal(t.match("GET", "/users/1/2"), null);
  const u = "550e8400-e29b-41d4-a716-446655440000";
  assert.deepEqual(t.match("GET", `/u/${u}`), { handler: "uuid", params: { u } });
  assert.equal(t.match("GET", `/u/${u}0`), null);
  assert.equal(t.match("GET", "/u/550e8400e29b41d4a716446655440000"), null);
  // Either case; version 1-8; variant 8, 9, a or b; hex digits only
  const U = "550E8400-E29B-81D4-B716-4466554400AF";
  assert.deepEqual(t.match("GET", `/u/${U}`), { handler: "uuid", params: { u: U } });
  for (
    const bad of [
      "550e8400-e29b-01d4-a716-446655440000", // version 0
      "550e8400-e29b-91d4-a716-446655440000", // version 9
      "550e8400-e29b-41d4-c716-446655440000", // variant c
      "550e8400-e29b-41d4-7716-446655440000", // variant 7
      "550e8400-e29b-41d4-a716-44665544000g", // not hex
      "550e8400+e29b-41d4-a716-446655440000", // separator
      "550e840-0e29b-41d4-a716-446655440000", // separator moved
    ]
  ) assert.equal(t.match("GET", `/u/${bad}`), null, bad);
  assert.deepEqual(t.match("GET", "/d/2024-02-29"), {
    handler: "date",
    params: { d: "2024-02-29" },
  });
  assert.equal(t.match("GET", "/d/2023-02-29"), null);
  assert.equal(t.match("GET", "/d/2024-00-10"), null);
  assert.equal(t.match("GET", "/d/2024-1-10"), null);
  for (const ok of ["2000-02-29", "2023-12-31", "2023-04-30", "0001-01-01", "2023-01-31"]) {
    assert.deepEqual(t.match("GET", `/d/${ok}`), { handler: "date", params: { d: ok } }, ok);
  }
  for (
    const bad of [
      "1900-02-29",
      "2023-04-31",
      "2023-13-01",
      "2023-12-00",
      "2023-12-32",
      "2023/12/01",
      "2023-1a-01",
    ]
  ) {
    assert.equal(t.match("GET", `/d/${bad}`), null, bad);
  }
  assert.deepEqual(t.match("GET", "/files/a/b%2Fc.txt"), {
    handler: "files",
    params: { "*": "a/b/c.txt" },
  });
  assert.deepEqual(t.match("PATCH", "/any"), { handler: "any", params: {} });
  assert.deepEqual(t.match("GET", "/a/1/b/2"), { handler: "ab", params: { x: "1", y: "2" } });
  assert.throws(() => t.add("GET", "nope", "x"), TypeError);
  // A literal that fails deeper gives way to a parameter at the same level
  const b = new RouteTable<string>()
    .add("GET", "/users/me/settings", "settings")
    .add("GET", "/users/:id/posts", "posts")
    .add("GET", "/p/:__proto__", "proto");
  assert.deepEqual(b.match("GET", "/users/me/posts"), { handler: "posts", params: { id: "me" } });
  assert.deepEqual(b.match("GET", "/users/me/settings"), { handler: "settings", params: {} });
  const proto = b.match("GET", "/p/x");
  assert.equal(Object.getPrototypeOf(proto?.params), Object.prototype);
  assert.deepEqual(Object.entries(proto?.params ?? {}), [["__proto__", "x"]]);
  // Where code generation is refused (e.g. --disallow-code-generation-from-strings)
  const g = globalThis as { Function: FunctionConstructor };
  const saved = g.Function;
  g.Function = function () {
    throw new EvalError("code generation from strings disallowed");
  } as unknown as FunctionConstructor;
  let c: RouteTable<string>;
  try {
    c = new RouteTable<string>().add("GET", "/a/:x/b/:n{int}/:__proto__", "h");
  } finally {
    g.Function = saved;
  }
  const m = c.match("GET", "/a/q%20r/b/12/z");
  assert.deepEqual(Object.entries(m?.params ?? {}), [["x", "q r"], ["n", 12], ["__proto__", "z"]]);
  assert.throws(() => t.add("GET", "/x/:n{float}", "x"), TypeError);
});

test("router: typed parameters agree with regular expressions on generated segments", () => {
  // The walk decides int/UUID/date from counts taken while it scans a
  // segment; these references look at the whole string instead
  const INT = /^-?[0-9]+$/, DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
  const realDay = (s: string): boolean => {
    const m = DATE.exec(s);
    if (m === null) return false;
    const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
    const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
    return days !== undefined && d >= 1 && d <= days;
  };
  const decoded = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const expect = (seg: string): string => {
    const v = decoded(seg);
    if (INT.test(v) && v.length <= 16) return "int";
    if (UUID.test(v)) return "uuid";
    if (realDay(v)) return "date";
    return v.length > 0 ? "any" : "none";
  };
  const t = new RouteTable<string>()
    .add("GET", "/p/:v{int}", "int")
    .add("GET", "/p/:v{uuid}", "uuid")
    .add("GET", "/p/:v{date}", "date")
    .add("GET", "/p/:v", "any");
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const PIECES = [..."0123456789abcdefABCDEFgz-.~_", "%31", "%2D", "%41", "%G1", "é", "±"];
  const seeds = [
    "550e8400-e29b-41d4-a716-446655440000",
    "550E8400-E29B-81D4-B716-4466554400AF",
    "2024-02-29",
    "2023-12-31",
    "-1234567890123456",
    "123456789012345",
  ];
  const segs: string[] = [
    ...["-", "--1", "1-2", "-0", "0", "9".repeat(16), "9".repeat(17)],
    // characters above 0x7f whose low bits are a digit or a hex letter
    ...["12±4", "2024-02-2±", "550e8400-e29b-41d4-a716-44665544000±", "ä1"],
  ];
  for (let i = 0; i < 4000; i++) {
    let s: string;
    if (i % 2 === 0) {
      // a valid one, one character changed, dropped or doubled
      const base = seeds[rand(seeds.length)], at = rand(base.length);
      const op = rand(3), piece = PIECES[rand(PIECES.length)];
      s = op === 0
        ? base.slice(0, at) + piece + base.slice(at + 1)
        : op === 1
        ? base.slice(0, at) + base.slice(at + 1)
        : base.slice(0, at) + base[at] + base.slice(at);
    } else {
      s = "";
      for (let n = rand(40); n > 0; n--) s += PIECES[rand(PIECES.length)];
    }
    segs.push(s);
  }
  // Long segments: past the counts' 255-character limit
  segs.push("1".repeat(300), "a".repeat(255) + "-", "%31".repeat(100), "-".repeat(256) + "1");
  for (const seg of segs) {
    const want = expect(seg);
    const m = t.match("GET", `/p/${seg}`);
    assert.equal(m?.handler ?? "none", want, JSON.stringify(seg));
  }
});

test("router: parseVars and parseMultipart", async () => {
  const qs = "q=search+term&x=%C3%BC%26&empty=&flag&&bad=%zz&n=1&n=2";
  assert.deepEqual(parseVars(qs), {
    q: "search term",
    x: "ü&",
    empty: "",
    flag: "",
    bad: "%zz",
    n: "2",
  });
  const fd = new FormData();
  fd.append("field", "value é");
  fd.append("file", new Blob([new Uint8Array([0, 13, 10, 45, 45, 255])]), "a.bin");
  const req = new Request("http://x/", { method: "POST", body: fd });
  // Read the type first: Bun drops a FormData body's Content-Type once it is consumed
  const type = req.headers.get("content-type") ?? "";
  const body = new Uint8Array(await req.arrayBuffer());
  const parts = parseMultipart(body, type);
  assert.equal(parts.length, 2);
  assert.equal(parts[0].name, "field");
  assert.equal(parts[0].filename, "");
  assert.equal(new TextDecoder().decode(parts[0].body), "value é");
  assert.equal(parts[1].name, "file");
  assert.equal(parts[1].filename, "a.bin");
  assert.deepEqual(Array.from(parts[1].body), [0, 13, 10, 45, 45, 255]);
  assert.deepEqual(parseMultipart(body, "multipart/form-data"), []);
});

test("router: Router.fetch on serve() and EventRouter.handler on a Manager", async () => {
  const router = new Router()
    .get(
      "/items/:id{int}",
      (req, ctx) => Response.json({ id: ctx.params.id, q: ctx.query, m: req.method }),
    )
    .post("/items", async (req) => Response.json(await req.json(), { status: 201 }));
  const s = serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, router.fetch);
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  const er = new EventRouter()
    .get(
      "/items/:id{int}",
      (ctx) => ctx.conn.replyJson({ id: ctx.params.id, q: ctx.query(), m: ctx.hm.method }),
    )
    .post("/items", (ctx) => ctx.conn.replyJson(ctx.json(), 201))
    .post("/form", (ctx) => ctx.conn.replyJson(ctx.form()));
  const lsn = mgr.listen("http://127.0.0.1:0", er.handler, { events: [MG_EV_HTTP_MSG] });
  try {
    const bases = [
      `http://127.0.0.1:${s.addr.port}`,
      `http://${lsn.localAddr}`,
    ];
    for (const base of bases) {
      let res = await fetch(`${base}/items/12?a=1+2&b=%C3%A9&c`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { id: 12, q: { a: "1 2", b: "é", c: "" }, m: "GET" });
      res = await fetch(`${base}/items/x`);
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), { error: "Not Found" });
      res = await fetch(`${base}/items`, { method: "POST", body: '{"k":[1]}' });
      assert.equal(res.status, 201);
      assert.deepEqual(await res.json(), { k: [1] });
    }
    // Query variables (cut from one decoded string when all ASCII) against
    // URLSearchParams, last value winning, on queries made of random pieces
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const pieces = ["a", "limit", "q", "x y", "%41", "%C3%A9", "+", "%25", "n1", "", "=", "%3D"];
    for (let i = 0; i < 40; i++) {
      const pairs: string[] = [];
      for (let j = rnd(18); j >= 0; j--) {
        let k = "", v = "";
        for (let m = 1 + rnd(3); m > 0; m--) k += pieces[rnd(pieces.length)].replace(/[ =]/g, "");
        for (let m = rnd(4); m > 0; m--) v += pieces[rnd(pieces.length)].replace(/ /g, "+");
        pairs.push(rnd(5) === 0 ? k : `${k}=${v}`);
      }
      const qs = pairs.join("&");
      const want: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(qs)) want[k] = v;
      const res = await fetch(`${bases[1]}/items/1?${qs}`);
      assert.deepEqual((await res.json()).q, want, qs);
    }
    const res = await fetch(`${bases[1]}/form`, {
      method: "POST",
      body: new URLSearchParams({ a: "x y", "b&": "=" }),
    });
    assert.deepEqual(await res.json(), { a: "x y", "b&": "=" });
  } finally {
    mgr.close();
    await s.shutdown();
  }
});
