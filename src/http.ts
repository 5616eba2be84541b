/**
 * `HttpMessage`: a lazy view of a `struct mg_http_message` in WASM memory.
 *
 * @module
 */

import type { Abi } from "./abi.ts";
import { formVar, httpCreds, type HttpPart, multipartParts } from "./multipart.ts";
import { splitVars } from "./vars.ts";

// struct mg_http_message offsets (wasm32, see wasm/ABI.md)
const OFF_METHOD = 0;
const OFF_URI = 8;
const OFF_QUERY = 16;
const OFF_PROTO = 24;
const OFF_HEADERS = 32;
const MAX_HEADERS = 30;

/** Scratch for `Abi.pairStrings` (used synchronously). */
const PAIRS: string[] = [];
const OFF_BODY = 512;
const OFF_HEAD = 520;
const OFF_MESSAGE = 528;

/** Decodes `application/x-www-form-urlencoded` text ('+' is a space). */
function formDecode(s: string): string {
  const t = s.indexOf("+") >= 0 ? s.replace(/\+/g, " ") : s;
  if (t.indexOf("%") < 0) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

let createMessage: (abi: Abi, ptr: number) => HttpMessage;
let invalidateMessage: (hm: HttpMessage) => void;
let messagePtr: (hm: HttpMessage) => number;
let readHead: (hm: HttpMessage, out: RequestHead) => void;
let messageMemory: (hm: HttpMessage) => WebAssembly.Memory;

/**
 * Internal: the parts of a request head `serve()` keeps (see
 * {@link readRequestHead}).
 */
export interface RequestHead {
  /** The path, as received. */
  path: string;
  /** The query string without '?' ("" if none). */
  query: string;
  /** The header lines as received, from the first name to the last value. */
  block: string;
  /** Where the body lies in WebAssembly memory (valid during the callback). */
  bodyAt: number;
  /** Its length in bytes. */
  bodyLen: number;
}

/**
 * An HTTP request (or response, for client connections), as delivered with
 * `MG_EV_HTTP_HDRS`, `MG_EV_HTTP_MSG` and `MG_EV_WS_OPEN`.
 *
 * It is a lazy view of the C `struct mg_http_message`: nothing is decoded
 * until a getter is used, and strings are cached once decoded. **It is valid
 * only during the event callback that received it**: afterwards the C side
 * reuses the memory, and every getter throws. Copy what you need to keep
 * (`hm.uri`, `hm.text`, `hm.body.slice()`) before the handler returns.
 *
 * @example
 * ```ts
 * import { Manager, MG_EV_HTTP_MSG, type HttpMessage } from "@wasmgoose/wasmgoose";
 *
 * const mgr = new Manager();
 * mgr.listen("http://127.0.0.1:8000", (c, ev, data) => {
 *   if (ev !== MG_EV_HTTP_MSG) return;
 *   const hm = data as HttpMessage;
 *   c.replyJson({ method: hm.method, uri: hm.uri, agent: hm.header("user-agent") });
 * });
 * ```
 */
export class HttpMessage {
  #abi: Abi;
  #p: number;
  #method: string | undefined;
  #uri: string | undefined;
  #query: string | undefined;
  #proto: string | undefined;
  #text: string | undefined;

  private constructor(abi: Abi, ptr: number) {
    this.#abi = abi;
    this.#p = ptr;
  }

  static {
    createMessage = (abi, ptr) => new HttpMessage(abi, ptr);
    invalidateMessage = (hm) => {
      hm.#p = 0;
    };
    messagePtr = (hm) => hm.#ptr();
    readHead = (hm, out) => hm.#readHead(out);
    messageMemory = (hm) => hm.#abi.memory;
  }

  /**
   * Path, query, the body's place and the header lines. The header lines are often the same
   * bytes request after request (one client, one tool): the C side keeps
   * the last ones and numbers each new version (`mgw_head_lines`, a
   * word-wise compare), and the text of one version is decoded once.
   */
  #readHead(out: RequestHead): void {
    const a = this.#abi;
    const p = this.#ptr(), w = p >>> 2;
    a.mem();
    const u32 = a.u32, w0 = w + (OFF_HEADERS >>> 2);
    const ql = u32[w + 5];
    out.path = a.str(u32[w + 2], u32[w + 3]);
    out.query = ql > 0 ? a.str(u32[w + 4], ql) : "";
    out.bodyAt = u32[w + (OFF_BODY >>> 2)];
    out.bodyLen = u32[w + (OFF_BODY >>> 2) + 1];
    const gen = a.x.mgw_head_lines(p); // counts the headers too (0: none, or too long)
    if (gen !== 0 && gen === a.linesGen) {
      out.block = a.linesText;
      return;
    }
    let n = 0;
    while (n < MAX_HEADERS && u32[w0 + n * 4 + 1] !== 0) n++;
    if (n === 0) {
      out.block = "";
      return;
    }
    const hp = u32[w0], len = u32[w0 + (n - 1) * 4 + 2] + u32[w0 + (n - 1) * 4 + 3] - hp;
    const text = a.str(hp, len);
    if (gen !== 0) {
      a.linesGen = gen;
      a.linesText = text;
    }
    out.block = text;
  }

  #ptr(): number {
    const p = this.#p;
    if (p === 0) {
      throw new Error(
        "HttpMessage used after its event callback returned (copy what you need during the callback)",
      );
    }
    return p;
  }

  /** Reads the `struct mg_str` at offset `off` as a string. */
  #str(off: number): string {
    return this.#abi.strText(this.#ptr() + off);
  }

  /**
   * The request method, e.g. `"GET"`.
   *
   * @example
   * ```ts
   * if (hm.method === "POST") c.reply(201);
   * ```
   */
  get method(): string {
    return (this.#method ??= this.#methodText());
  }

  /** The method; the common ones as constants (no new string). */
  #methodText(): string {
    const abi = this.#abi;
    abi.mem();
    const w = (this.#ptr() + OFF_METHOD) >>> 2;
    const ptr = abi.u32[w], len = abi.u32[w + 1], u8 = abi.u8;
    if (len === 3 && u8[ptr] === 0x47 && u8[ptr + 1] === 0x45 && u8[ptr + 2] === 0x54) return "GET";
    if (
      len === 4 && u8[ptr] === 0x50 && u8[ptr + 1] === 0x4f && u8[ptr + 2] === 0x53 &&
      u8[ptr + 3] === 0x54
    ) {
      return "POST";
    }
    return abi.str(ptr, len);
  }

  /**
   * The request path without the query string, e.g. `"/api/items"`. For a
   * response: the status code as text.
   *
   * @example
   * ```ts
   * if (hm.uri === "/") c.reply(200, "home");
   * ```
   */
  get uri(): string {
    return (this.#uri ??= this.#str(OFF_URI));
  }

  /**
   * The query string without `?` (empty if none), e.g. `"a=1&b=2"`.
   *
   * @example
   * ```ts
   * console.log(hm.query);
   * ```
   */
  get query(): string {
    return (this.#query ??= this.#str(OFF_QUERY));
  }

  /**
   * The protocol, e.g. `"HTTP/1.1"`.
   *
   * @example
   * ```ts
   * console.log(hm.proto);
   * ```
   */
  get proto(): string {
    return (this.#proto ??= this.#str(OFF_PROTO));
  }

  /**
   * The request line and headers, as received.
   *
   * @example
   * ```ts
   * console.log(hm.head);
   * ```
   */
  get head(): string {
    return this.#str(OFF_HEAD);
  }

  /**
   * The whole message (head and body) as text.
   *
   * @example
   * ```ts
   * console.log(hm.message.length);
   * ```
   */
  get message(): string {
    return this.#str(OFF_MESSAGE);
  }

  /**
   * The body: a view into WASM memory, valid only during the callback and
   * only until the next call that may grow memory (e.g. `reply`, `send`).
   * Use `hm.body.slice()` to keep a copy.
   *
   * @example
   * ```ts
   * const saved = hm.body.slice();
   * ```
   */
  get body(): Uint8Array {
    return this.#abi.strBytes(this.#ptr() + OFF_BODY);
  }

  /**
   * The body decoded as UTF-8.
   *
   * @example
   * ```ts
   * const obj = JSON.parse(hm.text);
   * ```
   */
  get text(): string {
    return (this.#text ??= this.#str(OFF_BODY));
  }

  /**
   * The value of header `name` (case-insensitive), or `undefined`.
   *
   * @example
   * ```ts
   * const type = hm.header("content-type") ?? "text/plain";
   * ```
   */
  header(name: string): string | undefined {
    const a = this.#abi;
    const base = this.#ptr() + OFF_HEADERS;
    a.mem();
    const u8 = a.u8;
    const u32 = a.u32;
    const nlen = name.length;
    for (let i = 0; i < MAX_HEADERS; i++) {
      const w = (base + i * 16) >>> 2;
      const len = u32[w + 1];
      if (len === 0) break;
      if (len !== nlen) continue;
      const np = u32[w];
      let j = 0;
      for (; j < nlen; j++) {
        let x = u8[np + j];
        let y = name.charCodeAt(j);
        if (x >= 0x41 && x <= 0x5a) x += 0x20;
        if (y >= 0x41 && y <= 0x5a) y += 0x20;
        if (x !== y) break;
      }
      if (j === nlen) return a.str(u32[w + 2], u32[w + 3]);
    }
    return undefined;
  }

  /**
   * All headers as `[name, value]` pairs, in order.
   *
   * @example
   * ```ts
   * for (const [k, v] of hm.headers()) console.log(k, v);
   * ```
   */
  headers(): Array<[string, string]> {
    const a = this.#abi;
    const base = this.#ptr() + OFF_HEADERS;
    const out: Array<[string, string]> = [];
    a.mem();
    const u32 = a.u32, w0 = base >>> 2;
    let n = 0;
    while (n < MAX_HEADERS && u32[w0 + n * 4 + 1] !== 0) n++;
    if (n === 0) return out;
    // The header lines lie back to back in the request (one string, cut)
    a.pairStrings(base, n, PAIRS);
    for (let i = 0; i < n; i++) out.push([PAIRS[2 * i], PAIRS[2 * i + 1]]);
    return out;
  }

  /**
   * The value of query variable `name` (form-decoded: `+` is a space,
   * `%XX` escapes are decoded), or `undefined` if absent.
   *
   * @example
   * ```ts
   * // GET /search?q=hello+world
   * hm.queryVar("q"); // "hello world"
   * ```
   */
  queryVar(name: string): string | undefined {
    const q = this.query;
    if (q.length === 0) return undefined;
    let start = 0;
    while (start <= q.length) {
      let end = q.indexOf("&", start);
      if (end < 0) end = q.length;
      const eq = q.indexOf("=", start);
      const kEnd = eq >= 0 && eq < end ? eq : end;
      if (formDecode(q.slice(start, kEnd)) === name) {
        return kEnd === end ? "" : formDecode(q.slice(kEnd + 1, end));
      }
      start = end + 1;
    }
    return undefined;
  }

  /**
   * The parts of a `multipart/form-data` body (`mg_http_next_multipart`),
   * in order; each part's `body` is a view valid during the callback.
   *
   * @example
   * ```ts
   * for (const part of hm.parts()) {
   *   console.log(part.name, part.filename, part.body.length);
   * }
   * ```
   */
  parts(): IterableIterator<HttpPart> {
    this.#ptr();
    return multipartParts(this.#abi, this.#p + OFF_BODY, () => this.#ptr());
  }

  /**
   * The value of variable `name` in an `application/x-www-form-urlencoded`
   * body (form-decoded), or `undefined`.
   *
   * @example
   * ```ts
   * // POST with body "user=ann&note=hi+there"
   * hm.formVar("note"); // "hi there"
   * ```
   */
  formVar(name: string): string | undefined {
    return formVar(this.text, name);
  }

  /**
   * The credentials of the request (`mg_http_creds`): `Authorization: Basic`
   * gives user and password; `Authorization: Bearer`, an `access_token`
   * cookie or query variable give the token as `pass` with an empty `user`.
   * Both are empty when there are none.
   *
   * @example
   * ```ts
   * const { user, pass } = hm.creds();
   * if (user !== "admin" || pass !== "secret") c.reply(401, "", { "WWW-Authenticate": 'Basic realm="x"' });
   * ```
   */
  creds(): { user: string; pass: string } {
    return httpCreds(this.#abi, this.#ptr());
  }

  /**
   * All query variables, decoded (`+` is a space, `%XX` escapes decoded),
   * split and decoded by the C core (`mg_http_split_vars`); a repeated name
   * keeps its last value.
   *
   * @example
   * ```ts
   * // GET /search?q=hello+world&page=2
   * hm.queryVars(); // { q: "hello world", page: "2" }
   * ```
   */
  queryVars(): Record<string, string> {
    return splitVars(this.#abi, this.#ptr() + OFF_QUERY);
  }

  /**
   * The status code of an HTTP response (client connections), or 0.
   *
   * @example
   * ```ts
   * if (hm.status() === 200) console.log(hm.text);
   * ```
   */
  status(): number {
    const n = parseInt(this.uri, 10);
    return Number.isNaN(n) ? 0 : n;
  }
}

/** Internal: a view of the `struct mg_http_message` at `ptr`. */
export function newHttpMessage(abi: Abi, ptr: number): HttpMessage {
  return createMessage(abi, ptr);
}

/** Internal: ends the view (when its callback returns). */
export function endHttpMessage(hm: HttpMessage): void {
  invalidateMessage(hm);
}

/**
 * Internal: fills `out` with the request's path, query and header lines
 * (throws if the message's callback has returned).
 */
export function readRequestHead(hm: HttpMessage, out: RequestHead): void {
  readHead(hm, out);
}

/**
 * Internal: the C pointer of a live message (`ev_data` of its event); throws
 * if its callback has returned.
 */
export function httpMessagePtr(hm: HttpMessage): number {
  return messagePtr(hm);
}

/** Internal: the WebAssembly memory a message's views (`body`) are of. */
export function httpMessageMemory(hm: HttpMessage): WebAssembly.Memory {
  return messageMemory(hm);
}
