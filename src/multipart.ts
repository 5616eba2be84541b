/**
 * Request-body helpers of `HttpMessage`: multipart/form-data parts
 * (`mg_http_next_multipart`), urlencoded form variables and credentials
 * (`mg_http_creds`).
 *
 * @module
 */

import type { Abi } from "./abi.ts";

/** struct mg_http_part: name @0, filename @8, body @16 (each a mg_str). */
const PART_NAME = 0;
const PART_FILENAME = 8;
const PART_BODY = 16;
/** Room for each of user and password in `creds()`. */
const CREDS_MAX = 8192;

const utf8 = new TextDecoder();

/**
 * One part of a `multipart/form-data` body, from `hm.parts()`. `body` is a
 * view into WebAssembly memory, valid only during the event callback (as
 * `hm.body`): copy it with `part.body.slice()` to keep it.
 *
 * @example
 * ```ts
 * for (const part of hm.parts()) {
 *   if (part.filename !== undefined) saved.set(part.filename, part.body.slice());
 *   else fields[part.name] = part.text();
 * }
 * ```
 */
export interface HttpPart {
  /** The form field name (`name` of `Content-Disposition`), `""` if none. */
  readonly name: string;
  /** The file name of a file upload, `undefined` for a plain field. */
  readonly filename: string | undefined;
  /** The part's content: a view into WASM memory (valid during the callback). */
  readonly body: Uint8Array;
  /** The content decoded as UTF-8. */
  text(): string;
}

class Part implements HttpPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly body: Uint8Array;
  constructor(name: string, filename: string | undefined, body: Uint8Array) {
    this.name = name;
    this.filename = filename;
    this.body = body;
  }
  text(): string {
    return utf8.decode(this.body);
  }
}

/** The value of a quoted parameter with its backslash escapes removed. */
function unquote(s: string): string {
  return s.indexOf("\\") < 0 ? s : s.replace(/\\(.)/g, "$1");
}

/**
 * Internal: iterates the parts of the body `struct mg_str` at `bodyPtr`;
 * `check()` throws once the message's callback has returned.
 */
export function* multipartParts(
  abi: Abi,
  bodyPtr: number,
  check: () => void,
): Generator<HttpPart, void, undefined> {
  let ofs = 0;
  for (;;) {
    check();
    abi.mem();
    const bp = abi.u32[bodyPtr >>> 2], blen = abi.u32[(bodyPtr >>> 2) + 1];
    const x = abi.x as unknown as MultipartExports;
    const next = x.mgw_next_multipart(bp, blen, ofs);
    if (next === 0) return;
    const p = x.mgw_multipart_part();
    abi.mem();
    const u32 = abi.u32;
    const fnPtr = u32[(p + PART_FILENAME) >>> 2];
    yield new Part(
      unquote(abi.strText(p + PART_NAME)),
      fnPtr === 0 ? undefined : unquote(abi.strText(p + PART_FILENAME)),
      abi.strBytes(p + PART_BODY),
    );
    ofs = next;
  }
}

/** The exports used here (see wasm/httpx.c). */
interface MultipartExports {
  mgw_next_multipart(body: number, blen: number, ofs: number): number;
  mgw_multipart_part(): number;
  mgw_http_creds(hm: number, user: number, ulen: number, pass: number, plen: number): void;
  mgw_http_head(c: number, on: number): void;
}

/** Internal: the typed extra exports of `abi`. */
export function httpxExports(abi: Abi): MultipartExports {
  return abi.x as unknown as MultipartExports;
}

/**
 * Internal: `mg_http_creds` on the message at `hmPtr`: Basic credentials,
 * a Bearer token (as `pass`, `user` empty), an `access_token` cookie or
 * query variable.
 */
export function httpCreds(abi: Abi, hmPtr: number): { user: string; pass: string } {
  const ptr = abi.stage(2 * CREDS_MAX);
  httpxExports(abi).mgw_http_creds(hmPtr, ptr, CREDS_MAX, ptr + CREDS_MAX, CREDS_MAX);
  return { user: abi.cstr(ptr), pass: abi.cstr(ptr + CREDS_MAX) };
}

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

/**
 * Internal: the value of variable `name` in urlencoded text `s`
 * (`a=1&b=2`), form-decoded, or `undefined`.
 */
export function formVar(s: string, name: string): string | undefined {
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf("&", start);
    if (end < 0) end = s.length;
    const eq = s.indexOf("=", start);
    const kEnd = eq >= 0 && eq < end ? eq : end;
    if (formDecode(s.slice(start, kEnd)) === name) {
      return kEnd === end ? "" : formDecode(s.slice(kEnd + 1, end));
    }
    start = end + 1;
  }
  return undefined;
}
