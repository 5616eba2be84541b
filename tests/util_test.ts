// Tests of the utilities, JSON and JSON-RPC in TypeScript: digests and HMAC
// against node:crypto, base64 against Buffer, CRC-32 against a bitwise
// reference, JSON lookups against JSON.parse on random documents (every path
// of every document, and mutated documents for validity), the Rpc class on
// its own and as a JSON-RPC endpoint over HTTP (fetch) and WebSocket (ws).
// Only node:test and node:assert: runs on Deno and, compiled, on Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { Buffer } from "node:buffer";
import WS from "ws";
import {
  base64Decode,
  base64Encode,
  base64UrlDecode,
  base64UrlEncode,
  checkIpAcl,
  crc32,
  hmacSha256,
  type HttpMessage,
  jsonFind,
  jsonGet,
  jsonGetBool,
  jsonGetLong,
  jsonGetNum,
  jsonGetStr,
  jsonValid,
  Manager,
  match,
  md5,
  MG_EV_HTTP_MSG,
  MG_EV_WS_MSG,
  MG_JSON_INVALID,
  MG_JSON_MAX_DEPTH,
  MG_JSON_NOT_FOUND,
  MG_JSON_TOO_DEEP,
  MG_RPC_INVALID_PARAMS,
  pathIsSane,
  randomBytes,
  randomString,
  Rpc,
  RpcError,
  sha1,
  sha256,
  toHex,
  urlDecode,
  urlEncode,
  urlHost,
  urlIsTls,
  urlPass,
  urlPort,
  urlUri,
  urlUser,
  type WsMessage,
} from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A small deterministic PRNG (xorshift32), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/** Random bytes of length n from r. */
function bytesOf(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const nodeHash = (alg: string, d: Uint8Array | string) =>
  toHex(new Uint8Array(crypto.createHash(alg).update(d).digest()));

// ---- hashes and encodings ----------------------------------------------------------

test("sha1, sha256, md5 agree with node:crypto", () => {
  const r = rng(1);
  const lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 127, 128, 129, 1000, 65536, 100_003];
  for (const n of lengths) {
    const d = bytesOf(r, n);
    assert.equal(toHex(sha1(d)), nodeHash("sha1", d), `sha1 of ${n} bytes`);
    assert.equal(toHex(sha256(d)), nodeHash("sha256", d), `sha256 of ${n} bytes`);
    assert.equal(toHex(md5(d)), nodeHash("md5", d), `md5 of ${n} bytes`);
  }
  // Strings are hashed as UTF-8
  for (const s of ["", "abc", "héllo wörld € 😀", "\u0000\uffff"]) {
    assert.equal(toHex(sha256(s)), nodeHash("sha256", encoder.encode(s)));
    assert.equal(toHex(md5(s)), nodeHash("md5", encoder.encode(s)));
    assert.equal(toHex(sha1(s)), nodeHash("sha1", encoder.encode(s)));
  }
  // Known answers (FIPS 180-4, RFC 1321)
  assert.equal(
    toHex(sha256("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(toHex(md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  // A 2 MiB input grows the staging buffer
  const big = bytesOf(r, 2 << 20);
  assert.equal(toHex(sha256(big)), nodeHash("sha256", big));
});

test("hmacSha256 agrees with node:crypto, including keys longer than a block", () => {
  const r = rng(2);
  for (const klen of [0, 1, 20, 63, 64, 65, 131, 300]) {
    for (const dlen of [0, 1, 50, 64, 1000]) {
      const key = bytesOf(r, klen), data = bytesOf(r, dlen);
      const want = toHex(new Uint8Array(crypto.createHmac("sha256", key).update(data).digest()));
      assert.equal(toHex(hmacSha256(key, data)), want, `key ${klen}, data ${dlen}`);
    }
  }
  // RFC 4231 test case 2
  assert.equal(
    toHex(hmacSha256("Jefe", "what do ya want for nothing?")),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});

/** Bitwise CRC-32 (reflected, polynomial 0xEDB88320): the reference. */
function crcRef(d: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of d) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test("crc32: check value, reference, incremental", () => {
  assert.equal(crc32("123456789"), 0xcbf43926);
  assert.equal(crc32(""), 0);
  const r = rng(3);
  for (const n of [1, 2, 7, 100, 4096, 10_001]) {
    const d = bytesOf(r, n);
    assert.equal(crc32(d), crcRef(d), `${n} bytes`);
    const cut = Math.floor(n / 3);
    assert.equal(crc32(d.subarray(cut), crc32(d.subarray(0, cut))), crcRef(d));
  }
});

test("base64 and base64url agree with Buffer, and reject bad input", () => {
  const r = rng(4);
  for (let n = 0; n < 300; n += 1 + Math.floor(n / 10)) {
    const d = bytesOf(r, n);
    const b = Buffer.from(d);
    assert.equal(base64Encode(d), b.toString("base64"));
    assert.equal(base64UrlEncode(d), b.toString("base64url"));
    assert.deepEqual(base64Decode(b.toString("base64")), d);
    assert.deepEqual(base64UrlDecode(b.toString("base64url")), d);
  }
  assert.equal(base64Encode("foobar"), "Zm9vYmFy");
  assert.equal(base64Encode("héllo"), Buffer.from("héllo").toString("base64"));
  assert.deepEqual(base64Decode("Zm9vYg"), encoder.encode("foob")); // padding optional
  assert.deepEqual(base64Decode(""), new Uint8Array(0));
  for (const bad of ["Z", "Zm9v!", "Zm=v", "Zm9vY==="]) {
    assert.throws(() => base64Decode(bad), TypeError, bad);
  }
  assert.throws(() => base64UrlDecode("+/+/"), TypeError);
  assert.throws(() => base64Decode("-_-_"), TypeError);
});

test("randomBytes and randomString", () => {
  const a = randomBytes(64), b = randomBytes(64);
  assert.equal(a.length, 64);
  assert.notDeepEqual(a, b);
  assert.equal(randomBytes(0).length, 0);
  assert.equal(randomBytes(100_000).length, 100_000);
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const s = randomString(40);
    assert.match(s, /^[0-9A-Za-z]{40}$/);
    for (const c of s) seen.add(c);
  }
  assert.ok(seen.size > 50, `2000 draws cover most of the 62 symbols (${seen.size})`);
  assert.equal(randomString(0), "");
  assert.throws(() => randomBytes(-1), RangeError);
  assert.throws(() => randomString(1.5), RangeError);
});

// ---- match, URLs, ACLs, paths ------------------------------------------------------

test("match returns the captures of mg_match", () => {
  assert.deepEqual(match("/api/v1", "/api/*"), ["v1"]);
  assert.deepEqual(match("/api/v1/users", "/api/*/*"), ["v1", "users"]);
  assert.deepEqual(match("/a/b/c", "/#"), ["a/b/c"]);
  assert.deepEqual(match("abc", "a?c"), ["b"]);
  assert.deepEqual(match("abc", "abc"), []);
  assert.deepEqual(match("", "#"), [""]);
  assert.deepEqual(match("/héllo/x", "/*/x"), ["héllo"]);
  assert.equal(match("/api/v1/users", "/api/*"), null);
  assert.equal(match("abc", "ABC"), null);
  // Against a regular expression equivalent of the glob, on random inputs
  const r = rng(5);
  const alpha = "ab/";
  for (let i = 0; i < 2000; i++) {
    let s = "", p = "";
    for (let k = Math.floor(r() * 8); k > 0; k--) s += alpha[Math.floor(r() * 3)];
    for (let k = Math.floor(r() * 6); k > 0; k--) p += "ab/*#?"[Math.floor(r() * 6)];
    const re = new RegExp(
      "^" + [...p].map((c) =>
        c === "*" ? "([^/]*?)" : c === "#" ? "(.*?)" : c === "?" ? "(.)" : c === "/" ? "\\/" : c
      ).join("") + "$",
      "s",
    );
    const m = re.exec(s);
    const got = match(s, p);
    assert.equal(got !== null, m !== null, `${JSON.stringify(s)} ~ ${JSON.stringify(p)}`);
    if (got !== null) {
      // Captures rebuild the string
      let k = 0, rebuilt = "";
      for (const c of p) {
        rebuilt += "*#?".includes(c) ? got[k++] : c;
      }
      assert.equal(rebuilt, s);
    }
  }
});

test("URL helpers agree with the WHATWG URL parser", () => {
  const urls = [
    "http://example.com/",
    "https://user:pa55@example.com:8443/a/b?c=d#e",
    "ws://127.0.0.1:9000/ws",
    "wss://example.com",
    "mqtt://broker.local",
    "mqtts://[::1]:1234/t",
    "http://[2001:db8::1]/x",
  ];
  for (const u of urls) {
    const w = new URL(u);
    assert.equal(urlHost(u), w.hostname.replace(/^\[|\]$/g, ""), u);
    assert.equal(urlUser(u), w.username, u);
    assert.equal(urlPass(u), w.password, u);
    const defaults: Record<string, number> = {
      "http:": 80,
      "ws:": 80,
      "https:": 443,
      "wss:": 443,
      "mqtt:": 1883,
      "mqtts:": 8883,
    };
    assert.equal(urlPort(u), w.port === "" ? defaults[w.protocol] : Number(w.port), u);
    assert.equal(urlIsTls(u), ["https:", "wss:", "mqtts:"].includes(w.protocol), u);
    const uri = u.replace(/^[a-z]+:\/\/[^/]*/, "");
    assert.equal(urlUri(u), uri === "" ? "/" : uri, u);
  }
  assert.equal(urlPort("tcp://host"), 0);
  assert.equal(urlIsTls("http://x"), false);
});

test("urlEncode / urlDecode agree with encodeURIComponent / decodeURIComponent", () => {
  const r = rng(6);
  for (let i = 0; i < 300; i++) {
    let s = "";
    for (let k = Math.floor(r() * 20); k > 0; k--) {
      const pick = r();
      s += pick < 0.6
        ? String.fromCharCode(32 + Math.floor(r() * 95))
        : pick < 0.8
        ? String.fromCharCode(0xa0 + Math.floor(r() * 0x700))
        : pick < 0.9
        ? "😀"
        : String.fromCharCode(Math.floor(r() * 32));
    }
    const enc = urlEncode(s);
    // mg_url_encode leaves only A-Z a-z 0-9 - . _ ~ (encodeURIComponent also
    // keeps ! ' ( ) *)
    const want = encodeURIComponent(s).replace(
      /[!'()*]/g,
      (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
    );
    assert.equal(enc, want);
    assert.equal(urlDecode(enc), s);
    assert.equal(urlDecode(enc.replace(/%20/g, "+"), true), s);
  }
  assert.equal(urlDecode("a+b"), "a+b");
  assert.equal(urlDecode("a+b", true), "a b");
  assert.equal(urlDecode("%zz"), undefined);
  assert.equal(urlDecode("%4"), undefined);
});

test("checkIpAcl and pathIsSane", () => {
  assert.equal(checkIpAcl("", "1.2.3.4"), 1);
  assert.equal(checkIpAcl("+0.0.0.0/0,-1.2.3.4/32", "1.2.3.4"), 0);
  assert.equal(checkIpAcl("+0.0.0.0/0,-1.2.3.4/32", "1.2.3.5"), 1);
  assert.equal(checkIpAcl("-0.0.0.0/0,+192.168.0.0/16", "192.168.7.7"), 1);
  assert.equal(checkIpAcl("-0.0.0.0/0,+192.168.0.0/16", "192.169.0.1"), 0);
  assert.equal(checkIpAcl("+::1", "::1"), 1);
  assert.equal(checkIpAcl("-::/0,+2001:db8::/32", "2001:db8::42"), 1);
  assert.equal(checkIpAcl("-::/0,+2001:db8::/32", "2001:db9::42"), 0);
  assert.equal(checkIpAcl("+1.2.3.4/40", "1.2.3.4"), -1);
  assert.equal(checkIpAcl("1.2.3.4", "1.2.3.4"), -1);
  assert.throws(() => checkIpAcl("+0.0.0.0/0", "not-an-ip"), TypeError);
  assert.equal(pathIsSane("/a/b/c.txt"), true);
  assert.equal(pathIsSane("/a/../b"), false);
  assert.equal(pathIsSane(".."), false);
  assert.equal(pathIsSane("a\\..\\b"), false);
  assert.equal(pathIsSane("/a..b/..c"), true);
});

// ---- JSON ------------------------------------------------------------------------------

/** A random string: ASCII, escapes, controls, BMP, astral, lone surrogates. */
function randStr(r: () => number, maxLen: number): string {
  let s = "";
  for (let k = Math.floor(r() * maxLen); k > 0; k--) {
    const p = r();
    if (p < 0.5) s += String.fromCharCode(97 + Math.floor(r() * 26));
    else if (p < 0.6) s += ['"', "\\", "/", "\b", "\f", "\n", "\r", "\t"][Math.floor(r() * 8)];
    else if (p < 0.7) s += String.fromCharCode(Math.floor(r() * 32));
    else if (p < 0.85) s += String.fromCharCode(0xa0 + Math.floor(r() * 0xd000));
    else if (p < 0.95) s += String.fromCodePoint(0x10000 + Math.floor(r() * 0xfffff));
    else s += String.fromCharCode(0xd800 + Math.floor(r() * 0x800)); // lone
  }
  return s;
}

/** A random key addressable by a path (no '.', '[' or NUL: paths are C strings). */
function randKey(r: () => number): string {
  return randStr(r, 6).replace(/[.[]/g, "_").split("\0").join("_");
}

function randNum(r: () => number): number {
  const p = r();
  if (p < 0.3) return Math.floor(r() * 2000) - 1000;
  if (p < 0.5) return (r() - 0.5) * 1e6;
  if (p < 0.6) return (r() - 0.5) * 10 ** Math.floor(r() * 600 - 300);
  if (p < 0.7) return Math.floor((r() - 0.5) * 2 ** 53);
  return Math.round(r() * 1e4) / 100;
}

function randValue(r: () => number, depth: number): unknown {
  const p = r();
  if (depth <= 0 || p < 0.45) {
    const q = r();
    if (q < 0.3) return randNum(r);
    if (q < 0.7) return randStr(r, 12);
    if (q < 0.8) return true;
    if (q < 0.9) return false;
    return null;
  }
  if (p < 0.7) {
    const a: unknown[] = [];
    for (let k = Math.floor(r() * 6); k > 0; k--) a.push(randValue(r, depth - 1));
    return a;
  }
  const o: Record<string, unknown> = {};
  for (let k = Math.floor(r() * 6); k > 0; k--) o[randKey(r)] = randValue(r, depth - 1);
  return o;
}

/** Every path of v, with the value there. */
function paths(v: unknown, path: string, out: Array<[string, unknown]>): void {
  out.push([path, v]);
  if (Array.isArray(v)) v.forEach((e, i) => paths(e, `${path}[${i}]`, out));
  else if (v !== null && typeof v === "object") {
    for (const [k, e] of Object.entries(v)) paths(e, `${path}.${k}`, out);
  }
}

/** JSON text of v with random whitespace. */
function serialize(r: () => number, v: unknown): string {
  const ws = () => [" ", "\t", "\n", "\r", "", "", ""][Math.floor(r() * 7)];
  if (Array.isArray(v)) {
    return "[" + ws() + v.map((e) => serialize(r, e)).join(ws() + "," + ws()) + ws() + "]";
  }
  if (v !== null && typeof v === "object") {
    return "{" + ws() +
      Object.entries(v).map(([k, e]) => JSON.stringify(k) + ws() + ":" + ws() + serialize(r, e))
        .join("," + ws()) +
      ws() + "}";
  }
  if (typeof v === "number" && r() < 0.3 && Number.isFinite(v) && v !== 0) {
    return v.toExponential(); // also exponents
  }
  return JSON.stringify(v);
}

/** What a string becomes after UTF-8 (lone surrogates turn into U+FFFD). */
const wellFormed = (s: string) => decoder.decode(encoder.encode(s));

test("JSON: every path of 300 random documents agrees with JSON.parse", () => {
  const r = rng(7);
  let checked = 0;
  for (let doc = 0; doc < 300; doc++) {
    const v = randValue(r, 5);
    const text = " " + serialize(r, v) + "\n";
    assert.deepEqual(JSON.parse(text), v); // the generator itself is sound
    const input = doc % 2 === 0 ? text : encoder.encode(text);
    const all: Array<[string, unknown]> = [];
    paths(v, "$", all);
    assert.equal(jsonValid(input), true);
    for (const [path, want] of all) {
      const tok = jsonGet(input, path);
      assert.notEqual(tok, undefined, `${path} in ${text}`);
      assert.deepEqual(JSON.parse(tok as string), want, `${path} in ${text}`);
      if (typeof want === "number") {
        assert.equal(jsonGetNum(input, path), want, path);
        assert.equal(jsonGetLong(input, path, 0.5), Math.trunc(want) + 0, path);
      } else {
        assert.equal(jsonGetNum(input, path), undefined, path);
        assert.equal(jsonGetLong(input, path, 0.5), 0.5, path);
      }
      if (typeof want === "string") {
        assert.equal(jsonGetStr(input, path), wellFormed(want), path);
      } else {
        assert.equal(jsonGetStr(input, path), undefined, path);
      }
      assert.equal(jsonGetBool(input, path), typeof want === "boolean" ? want : undefined);
      const span = jsonFind(input, path);
      assert.ok(typeof span !== "number");
      const bytes = typeof input === "string" ? encoder.encode(input) : input;
      assert.equal(
        decoder.decode(bytes.subarray(span.offset, span.offset + span.length)),
        tok,
      );
      checked++;
    }
    // Paths that are not there
    assert.equal(jsonGet(input, "$.__none__"), undefined);
    assert.equal(jsonFind(input, "$[999]"), MG_JSON_NOT_FOUND);
  }
  assert.ok(checked > 2000, `${checked} paths checked`);
});

test("JSON: validity of mutated documents agrees with JSON.parse", () => {
  const r = rng(8);
  const chars = '{}[],:"\\ 0123456789.eE+-tfnaulrsx\n';
  let invalid = 0;
  for (let i = 0; i < 3000; i++) {
    let t = JSON.stringify(randValue(r, 3));
    const op = r();
    const at = Math.floor(r() * (t.length + 1));
    if (op < 0.35) t = t.slice(0, at) + t.slice(at + 1);
    else if (op < 0.7) t = t.slice(0, at) + chars[Math.floor(r() * chars.length)] + t.slice(at);
    else if (op < 0.9) t = t.slice(0, at);
    else t = t.slice(0, at) + chars[Math.floor(r() * chars.length)] + t.slice(at + 1);
    let ok = true;
    try {
      JSON.parse(t);
    } catch {
      ok = false;
    }
    if (!ok) invalid++;
    assert.equal(jsonValid(t), ok, JSON.stringify(t));
    if (!ok) assert.equal(jsonFind(t, "$"), MG_JSON_INVALID, JSON.stringify(t));
  }
  assert.ok(invalid > 1000, `${invalid} invalid documents`);
});

test("JSON: depth limit, escapes, numbers", () => {
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
  assert.equal(jsonValid(deep(MG_JSON_MAX_DEPTH)), true);
  assert.equal(jsonFind(deep(MG_JSON_MAX_DEPTH + 1), "$"), MG_JSON_TOO_DEEP);
  assert.equal(jsonGet(deep(100), "$"), undefined);
  const doc = '{"s":"\\ud83d\\ude00\\u00e9\\n\\"\\\\\\/","lone":"\\udc00x","e":1E+2,' +
    '"z":"a\\u0000b","k\\"ey":1,"\\u00e9":2}';
  assert.equal(jsonGetStr(doc, "$.s"), '😀é\n"\\/');
  assert.equal(jsonGetStr(doc, "$.lone"), "\ufffdx");
  assert.equal(jsonGetStr(doc, "$.z"), "a\u0000b");
  assert.equal(jsonGetNum(doc, "$.e"), 100);
  assert.equal(jsonGetNum(doc, '$.k"ey'), 1); // keys compare unescaped
  assert.equal(jsonGetNum(doc, "$.é"), 2);
  assert.equal(jsonGetNum("[1e999]", "$[0]"), Infinity);
  assert.equal(jsonGetLong("[1e999]", "$[0]", 7), 7);
  assert.equal(jsonGetLong("[-0.5]", "$[0]", 7), 0);
  assert.equal(jsonGet("[1,2]", "$[1]"), "2");
  assert.equal(jsonGet("[1,2]", "$.a"), undefined);
  assert.equal(jsonGet("[1,2]", "a"), undefined);
  assert.equal(jsonGet("[1,2] x", "$"), undefined);
  assert.equal(jsonGet(' {"a" : true } ', "$"), '{"a" : true }');
});

// ---- JSON-RPC ------------------------------------------------------------------------

function makeRpc(): Rpc {
  const rpc = new Rpc();
  rpc.add("sum", (p) => (p as number[]).reduce((a, b) => a + b, 0));
  rpc.add("echo.*", (p, req) => ({ method: req.method, params: p ?? null, id: req.id ?? null }));
  rpc.add("div", (p) => {
    const [a, b] = p as number[];
    if (b === 0) throw new RpcError(MG_RPC_INVALID_PARAMS, "division by zero", { a });
    return a / b;
  });
  rpc.add("boom", () => {
    throw new Error("secret detail");
  });
  rpc.add("later", async (p) => {
    await new Promise((res) => setTimeout(res, 5));
    return p;
  });
  rpc.add("nothing", () => undefined);
  rpc.add("bigint", () => 1n);
  rpc.add("rpc.list", () => rpc.list());
  return rpc;
}

test("Rpc: results, errors and notifications", async () => {
  const rpc = makeRpc();
  const call = (f: string) => {
    const out = rpc.process(f);
    if (out !== undefined) JSON.parse(out); // always valid JSON
    return out;
  };
  assert.equal(call('{"id":1,"method":"sum","params":[1,2,3]}'), '{"id":1,"result":6}');
  assert.equal(
    call('{"jsonrpc":"2.0","method":"sum","params":[1.5,2],"id":"a"}'),
    '{"jsonrpc":"2.0","id":"a","result":3.5}',
  );
  assert.deepEqual(JSON.parse(call('{"id":[],"method":"x"}') as string), {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32600, message: "invalid id" },
  });
  assert.deepEqual(
    JSON.parse(call('{"id":2,"method":"echo.x","params":{"k":[1,"\\u00e9"]}}') as string),
    { id: 2, result: { method: "echo.x", params: { k: [1, "é"] }, id: "2" } },
  );
  assert.equal(
    call('{"id":3,"method":"div","params":[1,0]}'),
    '{"id":3,"error":{"code":-32602,"message":"division by zero","data":{"a":1}}}',
  );
  const origError = console.error;
  const logged: unknown[] = [];
  console.error = (...a: unknown[]) => logged.push(a);
  try {
    assert.equal(
      call('{"id":4,"method":"boom"}'),
      '{"id":4,"error":{"code":-32603,"message":"internal error"}}',
    );
    assert.equal(call('{"method":"boom"}'), undefined); // notifications: never answered
  } finally {
    console.error = origError;
  }
  assert.equal(logged.length, 2);
  assert.equal(call('{"id":5,"method":"nothing"}'), '{"id":5,"result":null}');
  assert.match(call('{"id":6,"method":"bigint"}') as string, /"code":-32603/);
  assert.equal(
    call('{"id":7,"method":"nope"}'),
    '{"id":7,"error":{"code":-32601,"message":"method not found"}}',
  );
  assert.equal(call('{"method":"nope"}'), undefined);
  assert.equal(call('{"method":"sum","params":[1]}'), undefined);
  assert.equal(
    call('{"id":8,"method":"echo.a/b"}'), // '*' does not match '/'
    '{"id":8,"error":{"code":-32601,"message":"method not found"}}',
  );
  // JSON-RPC 2.0 error codes for bad frames
  const err = (f: string) => JSON.parse(call(f) as string);
  assert.deepEqual(err('{"id":1,"method":'), {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32700, message: "parse error" },
  });
  assert.equal(err("").error.code, -32700);
  assert.equal(err("[1]")[0].error.code, -32600); // a batch of one invalid request
  assert.equal(err('"x"').error.code, -32600);
  assert.deepEqual(err('{"id":9}'), { id: 9, error: { code: -32600, message: "invalid request" } });
  assert.deepEqual(err('{"method":5}').id, null);
  assert.equal(err('{"id":9,"method":null}').error.code, -32600);
  // Bytes work as well as strings; ids keep their exact text
  assert.equal(
    rpc.process(encoder.encode('{"id":12345678901234567890,"method":"sum","params":[]}')),
    '{"id":12345678901234567890,"result":0}',
  );
  // Async handlers
  assert.equal(await rpc.handle('{"id":1,"method":"later","params":[9]}'), '{"id":1,"result":[9]}');
  assert.match(rpc.process('{"id":1,"method":"later"}') as string, /-32603.*async/);
  assert.equal(
    await rpc.handle('{"id":2,"method":"div","params":[1,0]}'),
    call('{"id":2,"method":"div","params":[1,0]}'),
  );
  assert.equal(await rpc.handle('{"method":"later"}'), undefined);
  // list and del
  assert.deepEqual(JSON.parse(call('{"id":1,"method":"rpc.list"}') as string).result, [
    "sum",
    "echo.*",
    "div",
    "boom",
    "later",
    "nothing",
    "bigint",
    "rpc.list",
  ]);
  rpc.del("echo.*");
  assert.equal(err('{"id":1,"method":"echo.x"}').error.code, -32601);
  rpc.del();
  assert.deepEqual(rpc.list(), []);
  assert.equal(err('{"id":1,"method":"sum"}').error.code, -32601);
});

test("Rpc: batches as in the JSON-RPC 2.0 specification's examples", async () => {
  const rpc = new Rpc()
    .add("sum", (p) => (p as number[]).reduce((a, b) => a + b, 0))
    .add("subtract", (p) => (p as number[])[0] - (p as number[])[1])
    .add("get_data", () => ["hello", 5])
    .add("notify_*", () => undefined)
    .add("later", (p) => Promise.resolve(p));
  const spec = '[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"1"},' +
    '{"jsonrpc":"2.0","method":"notify_hello","params":[7]},' +
    '{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":"2"},' +
    '{"foo":"boo"},' +
    '{"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},' +
    '{"jsonrpc":"2.0","method":"get_data","id":"9"}]';
  assert.deepEqual(JSON.parse(rpc.process(spec) as string), [
    { jsonrpc: "2.0", result: 7, id: "1" },
    { jsonrpc: "2.0", result: 19, id: "2" },
    { jsonrpc: "2.0", error: { code: -32600, message: "invalid request" }, id: null },
    { jsonrpc: "2.0", error: { code: -32601, message: "method not found" }, id: "5" },
    { jsonrpc: "2.0", result: ["hello", 5], id: "9" },
  ]);
  // Only notifications: nothing at all
  assert.equal(
    rpc.process(
      '[{"jsonrpc":"2.0","method":"notify_sum","params":[1,2,4]},' +
        '{"jsonrpc":"2.0","method":"notify_hello","params":[7]}]',
    ),
    undefined,
  );
  // An empty array, an invalid batch, not-objects
  assert.deepEqual(JSON.parse(rpc.process("[]") as string), {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32600, message: "invalid request" },
  });
  assert.equal(
    JSON.parse(rpc.process('[{"jsonrpc":"2.0","method":"sum"},{"jsonrpc"') as string).error.code,
    -32700,
  );
  assert.deepEqual(
    JSON.parse(rpc.process(" [1,2,3]") as string).map((r: { error: { code: number } }) =>
      r.error.code
    ),
    [-32600, -32600, -32600],
  );
  // Async handlers in a batch, from bytes
  assert.equal(
    await rpc.handle(
      encoder.encode(
        '[{"id":1,"method":"later","params":"a"},{"id":2,"method":"sum","params":[2]}]',
      ),
    ),
    '[{"id":1,"result":"a"},{"id":2,"result":2}]',
  );
});

test("Rpc: first matching pattern wins", () => {
  const rpc = new Rpc().add("a.*", () => "star").add("a.b", () => "exact");
  assert.equal(rpc.process('{"id":1,"method":"a.b"}'), '{"id":1,"result":"star"}');
  assert.equal(rpc.process('{"id":1,"method":"a.c"}'), '{"id":1,"result":"star"}');
});

test("Rpc over HTTP: a JSON-RPC endpoint answers fetch", async () => {
  const rpc = makeRpc();
  const mgr = new Manager();
  try {
    const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
      if (ev !== MG_EV_HTTP_MSG) return;
      const out = rpc.process((data as HttpMessage).body);
      if (out === undefined) c.reply(204);
      else c.reply(200, out, { "Content-Type": "application/json" });
    });
    const url = `http://${lsn.localAddr}/rpc`;
    const post = (body: string) => fetch(url, { method: "POST", body });
    let res = await post('{"jsonrpc":"2.0","id":1,"method":"sum","params":[40,2]}');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { jsonrpc: "2.0", id: 1, result: 42 });
    res = await post('{"jsonrpc":"2.0","method":"sum","params":[1]}');
    assert.equal(res.status, 204);
    await res.arrayBuffer();
    res = await post("{not json");
    assert.deepEqual((await res.json()).error.code, -32700);
  } finally {
    mgr.close();
  }
});

test("Rpc over WebSocket: the ws client calls methods", async () => {
  const rpc = makeRpc();
  const mgr = new Manager();
  try {
    const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
      if (ev === MG_EV_HTTP_MSG) c.wsUpgrade(data as HttpMessage);
      else if (ev === MG_EV_WS_MSG) {
        const out = rpc.process((data as WsMessage).data);
        if (out !== undefined) c.wsSend(out);
      }
    });
    const ws = new WS(`ws://${lsn.localAddr}/`);
    const replies: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.on("message", (m: Buffer) => {
        replies.push(m.toString());
        if (replies.length === 3) resolve();
      });
      ws.on("error", reject);
    });
    await new Promise<void>((resolve, reject) => {
      ws.on("open", () => resolve());
      ws.on("error", reject);
    });
    ws.send('{"id":1,"method":"sum","params":[1,2]}');
    ws.send('{"method":"sum","params":[1,2]}'); // a notification: no reply
    ws.send('{"id":2,"method":"nope"}');
    ws.send('{"id":3,"method":"echo.z","params":"\\ud83d\\ude00"}');
    await done;
    ws.close();
    assert.deepEqual(replies.map((s) => JSON.parse(s)), [
      { id: 1, result: 3 },
      { id: 2, error: { code: -32601, message: "method not found" } },
      { id: 3, result: { method: "echo.z", params: "😀", id: "3" } },
    ]);
  } finally {
    mgr.close();
  }
});
