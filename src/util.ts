/**
 * Utilities of the C core, callable without a Manager: hashes (SHA-1,
 * SHA-256, HMAC-SHA256, MD5, CRC-32), base64 and base64url, random bytes and
 * strings, glob matching with captures, URL parts, URL encoding, IP access
 * lists and path checks.
 *
 * They run in one WebAssembly instance shared by the whole process, created
 * on first use and separate from every Manager (its manager is never
 * polled). Inputs are copied into its memory once per call; strings are
 * UTF-8 encoded.
 *
 * @module
 */

import { Abi, decoder, encoder, type HostImports } from "./abi.ts";

/**
 * Bytes, or a string taken as its UTF-8 encoding.
 *
 * @example
 * ```ts
 * const a: BytesLike = "héllo", b: BytesLike = new Uint8Array([1, 2]);
 * ```
 */
export type BytesLike = string | Uint8Array;

/**
 * The exports of `wasm/util.c` (see `wasm/ABI.md`).
 *
 * @example
 * ```ts
 * const { x } = utilInstance();
 * x.mgw_crc32(0, 0, 0); // 0
 * ```
 */
export interface UtilExports {
  mgw_json_get(json: number, jlen: number, path: number, toklen: number): number;
  mgw_json_unescape(s: number, n: number, dst: number, dlen: number): number;
  mgw_json_next(obj: number, len: number, ofs: number, out: number): number;
  mgw_rpc_parse(frame: number, len: number, out: number): number;
  mgw_sha1(p: number, n: number, out: number): void;
  mgw_sha256(p: number, n: number, out: number): void;
  mgw_hmac_sha256(key: number, klen: number, p: number, n: number, out: number): void;
  mgw_md5(p: number, n: number, out: number): void;
  mgw_crc32(crc: number, p: number, n: number): number;
  mgw_b64_encode(p: number, n: number, out: number, olen: number, url: number): number;
  mgw_b64_decode(p: number, n: number, out: number, olen: number, url: number): number;
  mgw_random(p: number, n: number): number;
  mgw_random_str(p: number, n: number): void;
  mgw_match(s: number, slen: number, p: number, plen: number, caps: number): number;
  mgw_url(url: number, what: number, out: number): number;
  mgw_url_decode(s: number, n: number, to: number, tolen: number, form: number): number;
  mgw_url_encode(s: number, n: number, buf: number, len: number): number;
  mgw_ip_acl(acl: number, alen: number, ip: number, iplen: number): number;
  mgw_path_is_sane(p: number, n: number): number;
}

/**
 * The shared instance and its typed utility exports.
 *
 * @example
 * ```ts
 * const inst: UtilInstance = utilInstance();
 * ```
 */
export interface UtilInstance {
  /** The instance (memory views, staging buffer). */
  abi: Abi;
  /** Its utility exports. */
  x: UtilExports;
}

let shared: UtilInstance | undefined;

const noop = (): void => {};
const NO_HOST: HostImports = {
  listen: () => -1,
  connect: () => -1,
  write: () => -1,
  close: noop,
  shutdown: noop,
  pause: noop,
  event: noop,
  timer: noop,
  sendto: () => -1,
  resolve: noop,
};

/**
 * The process-wide utility instance, created on first use (one compile of
 * the module is shared with the Managers).
 *
 * @example
 * ```ts
 * const { abi } = utilInstance();
 * console.log(abi.memory.buffer.byteLength > 0); // true
 * ```
 */
export function utilInstance(): UtilInstance {
  if (shared === undefined) {
    const abi = new Abi(NO_HOST);
    abi.init(4096);
    shared = { abi, x: abi.x as unknown as UtilExports };
  }
  return shared;
}

/** Upper bound of the encoded size of `d`. */
function maxLen(d: BytesLike): number {
  return typeof d === "string" ? d.length * 3 : d.length;
}

/**
 * Writes `d` at `ptr` (room for {@link maxLen} bytes must be staged);
 * returns the number of bytes written.
 */
function writeAt(abi: Abi, d: BytesLike, ptr: number): number {
  if (typeof d === "string") {
    if (d.length === 0) return 0;
    return encoder.encodeInto(d, abi.u8.subarray(ptr, ptr + d.length * 3)).written;
  }
  abi.u8.set(d, ptr);
  return d.length;
}

/** Rounds up to a multiple of 8. */
function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Stages `parts` one after the other (each 8-aligned, NUL-terminated) plus
 * `extra` bytes in the shared instance; returns the pointers and lengths of
 * the parts and the pointer of the extra space.
 *
 * @example
 * ```ts
 * const { ptrs, lens, rest } = stageParts(["abc"], 32);
 * utilInstance().x.mgw_sha256(ptrs[0], lens[0], rest); // digest at rest
 * ```
 */
export function stageParts(
  parts: BytesLike[],
  extra: number,
): { ptrs: number[]; lens: number[]; rest: number } {
  const { abi } = utilInstance();
  let total = extra + 8;
  for (const p of parts) total += align8(maxLen(p) + 1);
  let at = abi.stage(total);
  const ptrs: number[] = [], lens: number[] = [];
  for (const p of parts) {
    const n = writeAt(abi, p, at);
    abi.u8[at + n] = 0; // NUL-terminated too, for the C string arguments
    ptrs.push(at);
    lens.push(n);
    at += align8(n + 1);
  }
  return { ptrs, lens, rest: at };
}

/** A copy of `n` bytes of memory at `ptr`. */
function copyOut(ptr: number, n: number): Uint8Array {
  const { abi } = utilInstance();
  return abi.mem().slice(ptr, ptr + n);
}

/** Runs a digest export over `data`. */
function digest(
  fn: (x: UtilExports, p: number, n: number, out: number) => void,
  data: BytesLike,
  size: number,
): Uint8Array {
  const { x } = utilInstance();
  const { ptrs, lens, rest } = stageParts([data], size);
  fn(x, ptrs[0], lens[0], rest);
  return copyOut(rest, size);
}

/**
 * SHA-1 of `data` (20 bytes).
 *
 * @example
 * ```ts
 * toHex(sha1("abc")); // "a9993e364706816aba3e25717850c26c9cd0d89d"
 * ```
 */
export function sha1(data: BytesLike): Uint8Array {
  return digest((x, p, n, o) => x.mgw_sha1(p, n, o), data, 20);
}

/**
 * SHA-256 of `data` (32 bytes, FIPS 180-4).
 *
 * @example
 * ```ts
 * toHex(sha256("abc")); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export function sha256(data: BytesLike): Uint8Array {
  return digest((x, p, n, o) => x.mgw_sha256(p, n, o), data, 32);
}

/**
 * MD5 of `data` (16 bytes, RFC 1321). Not for security.
 *
 * @example
 * ```ts
 * toHex(md5("abc")); // "900150983cd24fb0d6963f7d28e17f72"
 * ```
 */
export function md5(data: BytesLike): Uint8Array {
  return digest((x, p, n, o) => x.mgw_md5(p, n, o), data, 16);
}

/**
 * HMAC-SHA256 of `data` with `key` (32 bytes, RFC 2104).
 *
 * @example
 * ```ts
 * toHex(hmacSha256("key", "The quick brown fox jumps over the lazy dog"));
 * // "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
 * ```
 */
export function hmacSha256(key: BytesLike, data: BytesLike): Uint8Array {
  const { x } = utilInstance();
  const { ptrs, lens, rest } = stageParts([key, data], 32);
  x.mgw_hmac_sha256(ptrs[0], lens[0], ptrs[1], lens[1], rest);
  return copyOut(rest, 32);
}

/**
 * CRC-32 (IEEE 802.3) of `data`, continuing from `crc` (0 to start).
 *
 * @example
 * ```ts
 * crc32("123456789").toString(16); // "cbf43926"
 * crc32("6789", crc32("12345")); // same value, computed in two parts
 * ```
 */
export function crc32(data: BytesLike, crc = 0): number {
  const { x } = utilInstance();
  const { ptrs, lens } = stageParts([data], 0);
  return x.mgw_crc32(crc >>> 0, ptrs[0], lens[0]) >>> 0;
}

/**
 * Lowercase hexadecimal of `bytes`.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([0, 15, 255])); // "000fff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] + 0x100).toString(16).slice(1);
  return s;
}

function b64encode(data: BytesLike, url: number): string {
  const { abi, x } = utilInstance();
  const n = maxLen(data);
  const olen = Math.ceil(n / 3) * 4 + 1;
  const { ptrs, lens, rest } = stageParts([data], olen);
  const len = x.mgw_b64_encode(ptrs[0], lens[0], rest, olen, url);
  return abi.str(rest, len);
}

function b64decode(s: string, url: number): Uint8Array {
  const { x } = utilInstance();
  const olen = Math.ceil(s.length / 4) * 3 + 1;
  const { ptrs, lens, rest } = stageParts([s], olen);
  const len = x.mgw_b64_decode(ptrs[0], lens[0], rest, olen, url);
  if (len < 0) throw new TypeError(`invalid base64${url ? "url" : ""} input`);
  return copyOut(rest, len);
}

/**
 * Base64 (RFC 4648 section 4, with padding) of `data`.
 *
 * @example
 * ```ts
 * base64Encode("foobar"); // "Zm9vYmFy"
 * ```
 */
export function base64Encode(data: BytesLike): string {
  return b64encode(data, 0);
}

/**
 * Decodes standard base64 (padding optional). Throws a TypeError if `s` is
 * not valid base64.
 *
 * @example
 * ```ts
 * new TextDecoder().decode(base64Decode("Zm9vYg==")); // "foob"
 * ```
 */
export function base64Decode(s: string): Uint8Array {
  return b64decode(s, 0);
}

/**
 * base64url (RFC 4648 section 5, `-` and `_`, no padding) of `data`.
 *
 * @example
 * ```ts
 * base64UrlEncode(new Uint8Array([0xfb, 0xff])); // "-_8"
 * ```
 */
export function base64UrlEncode(data: BytesLike): string {
  return b64encode(data, 1);
}

/**
 * Decodes base64url (padding optional). Throws a TypeError on invalid input.
 *
 * @example
 * ```ts
 * base64UrlDecode("-_8"); // Uint8Array [0xfb, 0xff]
 * ```
 */
export function base64UrlDecode(s: string): Uint8Array {
  return b64decode(s, 1);
}

/**
 * `n` cryptographically random bytes (`mg_random`, fed by the runtime's
 * `crypto.getRandomValues`).
 *
 * @example
 * ```ts
 * const key = randomBytes(32);
 * ```
 */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bad length ${n}`);
  const { x } = utilInstance();
  const { rest } = stageParts([], n);
  if (!x.mgw_random(rest, n)) throw new Error("wasmgoose: no random source");
  return copyOut(rest, n);
}

/**
 * A random string of `n` characters from `[0-9A-Za-z]` (`mg_random_str`).
 *
 * @example
 * ```ts
 * const token = randomString(24); // e.g. "q3ZJ0wX9..."
 * ```
 */
export function randomString(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bad length ${n}`);
  const { abi, x } = utilInstance();
  const { rest } = stageParts([], n + 1);
  x.mgw_random_str(rest, n + 1);
  return abi.str(rest, n);
}

/**
 * Glob match of `str` against `pattern` (`mg_match`: `?` one byte, `*` any
 * run without `/`, `#` any run). Returns one capture per wildcard, in order,
 * or null if it does not match. Matching works on UTF-8 bytes.
 *
 * @example
 * ```ts
 * match("/api/v1/users", "/api/?#"); // ["v", "1/users"]
 * match("/a/b/c", "/#"); // ["a/b/c"]
 * match("/api/x", "/api/*"); // ["x"]
 * match("/x", "/y"); // null
 * ```
 */
export function match(str: string, pattern: string): string[] | null {
  const { abi, x } = utilInstance();
  let wild = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 42 || c === 35 || c === 63) wild++; // * # ?
  }
  const { ptrs, lens, rest } = stageParts([str, pattern], (wild + 1) * 8);
  if (!x.mgw_match(ptrs[0], lens[0], ptrs[1], lens[1], rest)) return null;
  abi.mem();
  const caps: string[] = [];
  for (let i = 0; i < wild; i++) caps.push(abi.strText(rest + i * 8));
  return caps;
}

function urlPart(url: string, what: number): number {
  const { x } = utilInstance();
  const { ptrs, rest } = stageParts([url], 8);
  return x.mgw_url(ptrs[0], what, rest) === 1 ? rest : -1;
}

function urlStr(url: string, what: number): string {
  const { abi } = utilInstance();
  const p = urlPart(url, what);
  return p < 0 ? "" : abi.strText(p);
}

/**
 * The host part of a URL (`mg_url_host`; IPv6 without brackets).
 *
 * @example
 * ```ts
 * urlHost("mqtt://user:pw@[::1]:1883/x"); // "::1"
 * ```
 */
export function urlHost(url: string): string {
  return urlStr(url, 0);
}

/**
 * The user of a URL (`mg_url_user`), or "".
 *
 * @example
 * ```ts
 * urlUser("http://joe:secret@example.com/"); // "joe"
 * ```
 */
export function urlUser(url: string): string {
  return urlStr(url, 1);
}

/**
 * The password of a URL (`mg_url_pass`), or "".
 *
 * @example
 * ```ts
 * urlPass("http://joe:secret@example.com/"); // "secret"
 * ```
 */
export function urlPass(url: string): string {
  return urlStr(url, 2);
}

/**
 * The port of a URL, or the scheme's default (`mg_url_port`: http/ws 80,
 * https/wss 443, mqtt 1883, mqtts 8883), 0 if unknown.
 *
 * @example
 * ```ts
 * urlPort("https://example.com/"); // 443
 * urlPort("http://localhost:8000"); // 8000
 * ```
 */
export function urlPort(url: string): number {
  const { x } = utilInstance();
  const { ptrs } = stageParts([url], 0);
  return x.mgw_url(ptrs[0], 3, 0);
}

/**
 * Whether the URL's scheme uses TLS (`mg_url_is_ssl`: https, wss, mqtts…).
 *
 * @example
 * ```ts
 * urlIsTls("wss://example.com"); // true
 * ```
 */
export function urlIsTls(url: string): boolean {
  const { x } = utilInstance();
  const { ptrs } = stageParts([url], 0);
  return x.mgw_url(ptrs[0], 4, 0) !== 0;
}

/**
 * The URI of a URL: from the first `/` after the authority, or "/"
 * (`mg_url_uri`).
 *
 * @example
 * ```ts
 * urlUri("http://example.com:8080/a/b?c=1"); // "/a/b?c=1"
 * ```
 */
export function urlUri(url: string): string {
  const { abi, x } = utilInstance();
  const { ptrs } = stageParts([url], 0);
  return abi.cstr(x.mgw_url(ptrs[0], 5, 0));
}

/**
 * Percent-decodes `s` (`mg_url_decode`; with `form`, `+` is a space).
 * Returns undefined on a malformed escape. Bytes are decoded as UTF-8.
 *
 * @example
 * ```ts
 * urlDecode("a%20b+c"); // "a b+c"
 * urlDecode("a%20b+c", true); // "a b c"
 * ```
 */
export function urlDecode(s: string, form = false): string | undefined {
  const { abi, x } = utilInstance();
  const cap = maxLen(s) + 1;
  const { ptrs, lens, rest } = stageParts([s], cap);
  const n = x.mgw_url_decode(ptrs[0], lens[0], rest, cap, form ? 1 : 0);
  if (n < 0) return undefined;
  return decoder.decode(abi.mem().subarray(rest, rest + n));
}

/**
 * Percent-encodes every byte of the UTF-8 of `s` except the unreserved
 * characters `A-Z a-z 0-9 - . _ ~` (`mg_url_encode`).
 *
 * @example
 * ```ts
 * urlEncode("a b/é"); // "a%20b%2F%C3%A9"
 * ```
 */
export function urlEncode(s: string): string {
  const { abi, x } = utilInstance();
  const cap = maxLen(s) * 3 + 1;
  const { ptrs, lens, rest } = stageParts([s], cap);
  const n = x.mgw_url_encode(ptrs[0], lens[0], rest, cap);
  return abi.str(rest, n);
}

/**
 * Checks an IP address against an access list (`mg_check_ip_acl`): a
 * comma-separated list of `+` (allow) or `-` (deny) entries with an optional
 * `/bits` mask, IPv4 or IPv6; the last matching entry wins; a non-empty list
 * denies what it does not match. Returns 1 allow, 0 deny, -1 malformed list.
 * Throws a TypeError if `ip` is not an IP address.
 *
 * @example
 * ```ts
 * checkIpAcl("-0.0.0.0/0,+10.0.0.0/8", "10.1.2.3"); // 1
 * checkIpAcl("+0.0.0.0/0,-1.2.3.4/32", "1.2.3.4"); // 0
 * checkIpAcl("bogus", "1.2.3.4"); // -1
 * ```
 */
export function checkIpAcl(acl: string, ip: string): number {
  const { x } = utilInstance();
  const { ptrs, lens } = stageParts([acl, ip], 0);
  const r = x.mgw_ip_acl(ptrs[0], lens[0], ptrs[1], lens[1]);
  if (r === -2) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
  return r;
}

/**
 * Whether a path has no `..` segment (`/` or `\` separated) and no NUL
 * (`mg_path_is_sane`).
 *
 * @example
 * ```ts
 * pathIsSane("/static/app.js"); // true
 * pathIsSane("/static/../etc/passwd"); // false
 * ```
 */
export function pathIsSane(path: string): boolean {
  const { x } = utilInstance();
  const { ptrs, lens } = stageParts([path], 0);
  return x.mgw_path_is_sane(ptrs[0], lens[0]) !== 0;
}
