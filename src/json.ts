/**
 * JSON lookups by path over the C core's `mg_json_get`: the document is
 * validated (RFC 8259, at most `MG_JSON_MAX_DEPTH` = 30 levels of nesting)
 * and the value at a path like `$.a.b[2].c` is returned as its raw JSON
 * text, or decoded as a number, string, boolean or integer. Nothing is
 * parsed into objects: this is for picking a few fields out of a document.
 *
 * @module
 */

import { decoder } from "./abi.ts";
import { type BytesLike, stageParts, utilInstance } from "./util.ts";

/**
 * `mg_json_get`: the document is nested too deeply.
 *
 * @example
 * ```ts
 * jsonFind("[".repeat(31) + "]".repeat(31), "$") === MG_JSON_TOO_DEEP; // true
 * ```
 */
export const MG_JSON_TOO_DEEP: number = -1;
/**
 * `mg_json_get`: the document is not valid JSON.
 *
 * @example
 * ```ts
 * jsonFind("{a:1}", "$.a") === MG_JSON_INVALID; // true
 * ```
 */
export const MG_JSON_INVALID: number = -2;
/**
 * `mg_json_get`: nothing at the path (or the path is malformed).
 *
 * @example
 * ```ts
 * jsonFind('{"a":1}', "$.b") === MG_JSON_NOT_FOUND; // true
 * ```
 */
export const MG_JSON_NOT_FOUND: number = -3;
/**
 * Deepest nesting of arrays and objects the C parser accepts.
 *
 * @example
 * ```ts
 * jsonValid("[".repeat(MG_JSON_MAX_DEPTH) + "]".repeat(MG_JSON_MAX_DEPTH)); // true
 * ```
 */
export const MG_JSON_MAX_DEPTH = 30;

/**
 * Where a value lies in a document, in bytes of its UTF-8.
 *
 * @example
 * ```ts
 * const span = jsonFind('{"a":"é"}', "$.a");
 * if (typeof span !== "number") console.log(span.offset, span.length); // 5 4
 * ```
 */
export interface JsonSpan {
  /** Byte offset of the value's first character. */
  offset: number;
  /** Byte length of the value's JSON text. */
  length: number;
}

/**
 * Finds the value at `path` (`mg_json_get`). Returns its byte span, or
 * `MG_JSON_NOT_FOUND`, `MG_JSON_INVALID` or `MG_JSON_TOO_DEEP`.
 *
 * @example
 * ```ts
 * jsonFind('{"a":[1,22]}', "$.a[1]"); // { offset: 8, length: 2 }
 * jsonFind('{"a":', "$.a"); // MG_JSON_INVALID (-2)
 * ```
 */
export function jsonFind(json: BytesLike, path: string): JsonSpan | number {
  const { abi, x } = utilInstance();
  const { ptrs, lens, rest } = stageParts([json, path], 8);
  const ofs = x.mgw_json_get(ptrs[0], lens[0], ptrs[1], rest);
  if (ofs < 0) return ofs;
  abi.mem();
  return { offset: ofs, length: abi.dv.getInt32(rest, true) };
}

/**
 * The token at path as a view of the staged document, or undefined.
 * `spare` bytes after `rest + 8` stay free for the caller.
 */
function tokenBytes(json: BytesLike, path: string, spare = 0): Uint8Array | undefined {
  const { abi, x } = utilInstance();
  const { ptrs, lens, rest } = stageParts([json, path], 8 + spare);
  const ofs = x.mgw_json_get(ptrs[0], lens[0], ptrs[1], rest);
  spareAt = rest + 8;
  if (ofs < 0) return undefined;
  const u8 = abi.mem();
  return u8.subarray(ptrs[0] + ofs, ptrs[0] + ofs + abi.dv.getInt32(rest, true));
}

/** Where the spare room of the last tokenBytes call starts. */
let spareAt = 0;

/**
 * The raw JSON text of the value at `path`, or undefined if there is none
 * or the document is not valid JSON. Paths: `$` (the whole document),
 * `$.key`, `$[index]`, combined: `$.a.b[2].c`.
 *
 * @example
 * ```ts
 * jsonGet('{"a":{"b":[1,"x",null]}}', "$.a.b[1]"); // '"x"'
 * jsonGet('{"a":{"b":[1,"x",null]}}', "$.a"); // '{"b":[1,"x",null]}'
 * jsonGet('{"a":1}', "$.z"); // undefined
 * ```
 */
export function jsonGet(json: BytesLike, path: string): string | undefined {
  const t = tokenBytes(json, path);
  return t === undefined ? undefined : decoder.decode(t);
}

function isNumberStart(c: number): boolean {
  return c === 45 || (c >= 48 && c <= 57); // '-' or a digit
}

/**
 * The number at `path`, or undefined if the value there is not a number.
 *
 * @example
 * ```ts
 * jsonGetNum('{"t":-1.5e3}', "$.t"); // -1500
 * jsonGetNum('{"t":"1"}', "$.t"); // undefined
 * ```
 */
export function jsonGetNum(json: BytesLike, path: string): number | undefined {
  const t = tokenBytes(json, path);
  if (t === undefined || !isNumberStart(t[0])) return undefined;
  let s = "";
  for (let i = 0; i < t.length; i++) s += String.fromCharCode(t[i]);
  return Number(s);
}

/**
 * The boolean at `path`, or undefined if the value there is not `true` or
 * `false`.
 *
 * @example
 * ```ts
 * jsonGetBool('{"on":true}', "$.on"); // true
 * ```
 */
export function jsonGetBool(json: BytesLike, path: string): boolean | undefined {
  const t = tokenBytes(json, path);
  if (t === undefined) return undefined;
  if (t[0] === 116 && t.length === 4) return true; // true
  if (t[0] === 102 && t.length === 5) return false; // false
  return undefined;
}

/**
 * The number at `path` truncated to an integer, or `dflt` if the value
 * there is not a finite number (like `mg_json_get_long`, but with the range
 * of a JavaScript number rather than of a 32-bit C `long`).
 *
 * @example
 * ```ts
 * jsonGetLong('{"n":42.9}', "$.n", 0); // 42
 * jsonGetLong('{"n":"x"}', "$.n", -1); // -1
 * ```
 */
export function jsonGetLong(json: BytesLike, path: string, dflt: number): number {
  const v = jsonGetNum(json, path);
  return v === undefined || !Number.isFinite(v) ? dflt : Math.trunc(v) + 0;
}

/**
 * The string at `path`, unescaped by the C core (`mg_json_unescape`:
 * `\uXXXX` escapes and surrogate pairs become UTF-8, a lone surrogate
 * becomes U+FFFD), or undefined if the value there is not a string.
 *
 * @example
 * ```ts
 * jsonGetStr('{"name":"Jos\\u00e9 \\ud83d\\ude00"}', "$.name"); // "José 😀"
 * ```
 */
export function jsonGetStr(json: BytesLike, path: string): string | undefined {
  const spare = (typeof json === "string" ? json.length * 3 : json.length) + 1;
  const t = tokenBytes(json, path, spare);
  if (t === undefined || t[0] !== 34) return undefined; // '"'
  const { abi, x } = utilInstance();
  // The unescaped text is never longer than the escaped one; it goes to the
  // spare room after the document (see tokenBytes)
  const n = t.length - 2, out = spareAt;
  const len = x.mgw_json_unescape(t.byteOffset + 1, n, out, n + 1);
  if (len < 0) return undefined;
  return decoder.decode(abi.mem().subarray(out, out + len));
}

/**
 * Whether `json` is one valid JSON document that the C parser accepts (RFC
 * 8259, nesting at most {@link MG_JSON_MAX_DEPTH}).
 *
 * @example
 * ```ts
 * jsonValid('{"a":[1,2]}'); // true
 * jsonValid("{a:1}"); // false
 * ```
 */
export function jsonValid(json: BytesLike): boolean {
  return typeof jsonFind(json, "$") !== "number";
}
