/**
 * Static files and uploads: the options of `Connection.serveDir`,
 * `Connection.serveFile`, `Connection.upload` and `Connection.uploadChunk`,
 * and their marshalling into the `mgw_serve` / `mgw_upload` /
 * `mgw_upload_chunk` exports (`mg_http_serve_dir`, `mg_http_serve_file`,
 * `mg_http_upload_stream`, `mg_http_upload` of the C core).
 *
 * @module
 */

import { type Abi, encoder } from "./abi.ts";
import { headerBlock } from "./connection.ts";

/**
 * Options of {@link Connection.serveDir} (and, without `rootDir`, of
 * {@link Connection.serveFile}).
 *
 * @example
 * ```ts
 * const opts: ServeDirOptions = {
 *   rootDir: "./public",
 *   extraHeaders: { "Cache-Control": "max-age=60" },
 *   mimeTypes: { wasm: "application/wasm", log: "text/plain" },
 *   page404: "./public/404.html",
 * };
 * ```
 */
export interface ServeDirOptions {
  /** The web root directory (default: the current directory). */
  rootDir?: string;
  /** Headers added to every response (as an object, or `"Name: value\r\n"` lines). */
  extraHeaders?: Record<string, string> | string;
  /** Extra or overriding MIME types by extension (`{ ext: "type" }` or `"ext1=type1,ext2=type2"`). */
  mimeTypes?: Record<string, string> | string;
  /** A file served with status 404 when the request names no file. */
  page404?: string;
}

/**
 * Options of {@link Connection.upload}.
 *
 * @example
 * ```ts
 * const opts: UploadOptions = { dir: "/tmp/uploads", maxSize: 100 * 1024 * 1024 };
 * ```
 */
export interface UploadOptions {
  /** The directory the file is written to (it must exist). */
  dir: string;
  /** The largest body accepted (bytes, default 1 GiB); larger ones get 413. */
  maxSize?: number;
}

const BAD_STRING = /[\0\r\n]/;
const BAD_MIME = /[\0\r\n,=]/;

function checkString(what: string, s: string | undefined): void {
  if (s !== undefined && BAD_STRING.test(s)) {
    throw new TypeError(`invalid ${what} ${JSON.stringify(s)} (NUL, CR or LF)`);
  }
}

/** The `"Name: value\r\n"` block of `extraHeaders`. */
function extraBlock(h: Record<string, string> | string | undefined): string {
  if (h === undefined) return "";
  if (typeof h !== "string") return headerBlock(h);
  if (h.indexOf("\0") >= 0) throw new TypeError("invalid extraHeaders (NUL)");
  for (const line of h.split("\r\n")) {
    if (line !== "" && (/[\r\n]/.test(line) || line.indexOf(":") <= 0)) {
      throw new TypeError(`invalid extraHeaders line ${JSON.stringify(line)}`);
    }
  }
  return h === "" || h.endsWith("\r\n") ? h : h + "\r\n";
}

/** The `"ext1=type1,ext2=type2"` form of `mimeTypes`. */
function mimeList(m: Record<string, string> | string | undefined): string {
  if (m === undefined) return "";
  if (typeof m === "string") {
    checkString("mimeTypes", m);
    return m;
  }
  const parts: string[] = [];
  for (const ext of Object.keys(m)) {
    const type = String(m[ext]);
    const e = ext.startsWith(".") ? ext.slice(1) : ext;
    if (e === "" || BAD_MIME.test(e) || BAD_MIME.test(type)) {
      throw new TypeError(
        `invalid MIME type mapping ${JSON.stringify(ext)}: ${JSON.stringify(type)}`,
      );
    }
    parts.push(`${e}=${type}`);
  }
  return parts.join(",");
}

/**
 * Internal: `mg_http_serve_dir` (`file` false, `target` the root) or
 * `mg_http_serve_file` (`target` the path) for the message at `hm`.
 */
export function serveStatic(
  abi: Abi,
  c: number,
  hm: number,
  file: boolean,
  target: string,
  opts: ServeDirOptions | undefined,
): void {
  checkString(file ? "path" : "rootDir", target);
  checkString("page404", opts?.page404);
  const blk = target + "\0" + extraBlock(opts?.extraHeaders) + "\0" +
    mimeList(opts?.mimeTypes) + "\0" + (opts?.page404 ?? "") + "\0";
  const ptr = abi.stage(blk.length * 3);
  const n = encoder.encodeInto(blk, abi.stageView).written;
  abi.x.mgw_serve(c, hm, file ? 1 : 0, ptr, n);
}

/**
 * Options of {@link Connection.uploadChunk}.
 *
 * @example
 * ```ts
 * const opts: UploadChunkOptions = { dir: "/tmp/uploads", maxSize: 10 * 1024 * 1024 };
 * ```
 */
export interface UploadChunkOptions {
  /** The directory the file is written to (it must exist). */
  dir: string;
  /** The largest file accepted (bytes, default 1 GiB); a piece that would pass it gets 413. */
  maxSize?: number;
}

/**
 * The checks both uploads share; then `opts.dir` staged for the C side.
 * Returns [the staged length, maxSize].
 */
function uploadArgs(
  abi: Abi,
  what: string,
  opts: UploadOptions | UploadChunkOptions,
): [number, number] {
  if (opts === undefined || typeof opts.dir !== "string" || opts.dir === "") {
    throw new TypeError(`${what}() needs { dir }`);
  }
  checkString("dir", opts.dir);
  const max = opts.maxSize ?? 1 << 30;
  if (!(max >= 0)) throw new RangeError(`invalid maxSize ${max}`);
  abi.stage(opts.dir.length * 3);
  return [encoder.encodeInto(opts.dir, abi.stageView).written, max];
}

/** Internal: `mg_http_upload_stream` for the message at `hm`. */
export function uploadStream(abi: Abi, c: number, hm: number, opts: UploadOptions): void {
  const [n, max] = uploadArgs(abi, "upload", opts);
  abi.x.mgw_upload(c, hm, abi.stagePtr, n, max);
}

/** Internal: `mg_http_upload` for the message at `hm`; bytes written or -1. */
export function uploadChunk(abi: Abi, c: number, hm: number, opts: UploadChunkOptions): number {
  const [n, max] = uploadArgs(abi, "uploadChunk", opts);
  return abi.x.mgw_upload_chunk(c, hm, abi.stagePtr, n, max);
}
