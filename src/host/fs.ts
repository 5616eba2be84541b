/**
 * The file imports of the WASM module (`fs_*` of module `"mgw_host"`, see
 * `wasm/ABI.md`): `mg_fs_posix` of the C core, backed by the runtime's
 * synchronous file calls (`Deno.*Sync` on Deno, `node:fs` on Node.js and
 * Bun). Nothing touches the file system until a file call is made, so a
 * program that serves no files needs no read permission on Deno.
 *
 * Internal module.
 *
 * @module
 */

import type * as FsNs from "node:fs";

/** What the imports need from the instance: its memory and strings. */
export interface FsMemory {
  /** The current byte view of WASM memory (re-taken after growth). */
  mem(): Uint8Array;
  /** Decodes `len` bytes of UTF-8 at `ptr`. */
  str(ptr: number, len: number): string;
}

// mg_fs flags (vendor/mongoose/mongoose.h)
const MG_FS_READ = 1;
const MG_FS_WRITE = 2;
const MG_FS_DIR = 4;
const MG_FS_APPEND = 8;

// The parts of the Deno namespace used here, typed locally (for tsc).
interface DenoFile {
  readSync(p: Uint8Array): number | null;
  writeSync(p: Uint8Array): number;
  seekSync(offset: number, whence: number): number;
  statSync(): { isFile: boolean; size: number };
  close(): void;
}
interface DenoFsApi {
  statSync(
    path: string,
  ): { isFile: boolean; isDirectory: boolean; size: number; mtime: Date | null };
  openSync(path: string, opts: Record<string, boolean>): DenoFile;
  readDirSync(path: string): Iterable<{ name: string }>;
  renameSync(from: string, to: string): void;
  removeSync(path: string): void;
  mkdirSync(path: string): void;
}

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown;
}

/** One runtime's synchronous file calls (a handle is an open file). */
interface FileApi {
  /** [flags, size, mtime in seconds] or null if there is no such file. */
  stat(path: string): [number, number, number] | null;
  list(path: string): string[];
  /**
   * An open file (a regular file when reading), or null: "r" reads, "w"
   * creates or truncates, "a" creates or keeps the contents (writes go to
   * the end: the caller starts at `size`).
   */
  open(path: string, mode: "r" | "w" | "a"): unknown;
  /** The size of an open file. */
  size(f: unknown): number;
  close(f: unknown): void;
  read(f: unknown, buf: Uint8Array, pos: number): number;
  write(f: unknown, buf: Uint8Array, pos: number): number;
  rename(from: string, to: string): void;
  remove(path: string): void;
  mkdir(path: string): void;
}

function denoApi(deno: DenoFsApi): FileApi {
  const at = new WeakMap<DenoFile, number>(); // each file's position (no seek needed there)
  return {
    stat(path) {
      const st = deno.statSync(path);
      const mtime = st.mtime === null ? 0 : Math.floor(st.mtime.getTime() / 1000);
      return [MG_FS_READ | MG_FS_WRITE | (st.isDirectory ? MG_FS_DIR : 0), st.size, mtime];
    },
    list: (path) => Array.from(deno.readDirSync(path), (e) => e.name),
    open(path, mode) {
      const f = deno.openSync(
        path,
        mode === "r"
          ? { read: true }
          : mode === "w"
          ? { write: true, create: true, truncate: true }
          : { write: true, create: true, append: true },
      );
      if (mode === "r" && !f.statSync().isFile) {
        f.close();
        return null;
      }
      at.set(f, 0);
      return f;
    },
    size(f) {
      const file = f as DenoFile, n = file.statSync().size;
      at.set(file, -1); // unknown: the next read or write seeks
      return n;
    },
    close: (f) => (f as DenoFile).close(),
    read(f, buf, pos) {
      const file = f as DenoFile;
      if (at.get(file) !== pos) file.seekSync(pos, 0);
      const n = file.readSync(buf) ?? 0;
      at.set(file, pos + n);
      return n;
    },
    write(f, buf, pos) {
      const file = f as DenoFile;
      if (at.get(file) !== pos) file.seekSync(pos, 0);
      const n = file.writeSync(buf);
      at.set(file, pos + n);
      return n;
    },
    rename: (from, to) => deno.renameSync(from, to),
    remove: (path) => deno.removeSync(path),
    mkdir: (path) => deno.mkdirSync(path),
  };
}

function nodeApi(fs: typeof FsNs): FileApi {
  return {
    stat(path) {
      const st = fs.statSync(path, { throwIfNoEntry: false });
      if (st === undefined) return null;
      const flags = MG_FS_READ | MG_FS_WRITE | (st.isDirectory() ? MG_FS_DIR : 0);
      return [flags, st.size, Math.floor(st.mtimeMs / 1000)];
    },
    list: (path) => fs.readdirSync(path),
    open(path, mode) {
      const fd = fs.openSync(path, mode);
      if (mode === "r" && !fs.fstatSync(fd).isFile()) {
        fs.closeSync(fd);
        return null;
      }
      return fd;
    },
    size: (f) => fs.fstatSync(f as number).size,
    close: (f) => fs.closeSync(f as number),
    read: (f, buf, pos) => fs.readSync(f as number, buf, 0, buf.length, pos),
    write: (f, buf, pos) => fs.writeSync(f as number, buf, 0, buf.length, pos),
    rename: (from, to) => fs.renameSync(from, to),
    remove: (path) => fs.unlinkSync(path),
    mkdir: (path) => fs.mkdirSync(path),
  };
}

let api: FileApi | undefined;
const enc = new TextEncoder();

/** The runtime's file calls, found on first use. */
function files(): FileApi {
  if (api === undefined) {
    const deno = (globalThis as { Deno?: DenoFsApi }).Deno;
    if (deno !== undefined) {
      api = denoApi(deno);
    } else {
      const proc = (globalThis as { process?: ProcessLike }).process;
      const fs = proc?.getBuiltinModule?.("node:fs") as typeof FsNs | undefined;
      if (fs === undefined) {
        throw new Error("wasmgoose: no file system API (needs Deno, Node.js >= 20.16 or Bun)");
      }
      api = nodeApi(fs);
    }
  }
  return api;
}

interface OpenFile {
  f: unknown;
  pos: number;
}

let warned = false;

/** Reports a failed file call once per process when it is not "not found". */
function report(e: unknown): void {
  const name = e instanceof Error ? e.name : "";
  const code = (e as { code?: string }).code;
  if (name === "NotFound" || code === "ENOENT" || code === "ENOTDIR" || warned) return;
  if (name === "NotCapable" || name === "PermissionDenied") {
    warned = true;
    console.error(`wasmgoose: file access denied (${(e as Error).message}); grant --allow-read`);
  }
}

/**
 * The `fs_*` imports for one instance: each call is synchronous, and errors
 * become the C side's failure values (see `wasm/ABI.md`).
 */
export function fsImports(m: FsMemory): Record<string, (...args: never[]) => unknown> {
  const open = new Map<number, OpenFile>();
  let next = 1;
  const path = (p: number, n: number): string => m.str(p, n);
  return {
    fs_stat: (p: number, n: number, out: number): number => {
      try {
        const st = files().stat(path(p, n));
        if (st === null) return 0;
        const dv = new DataView(m.mem().buffer);
        dv.setFloat64(out, st[1], true);
        dv.setFloat64(out + 8, st[2], true);
        return st[0];
      } catch (e) {
        report(e);
        return 0;
      }
    },
    fs_list: (p: number, n: number, buf: number, len: number): number => {
      let names: string[];
      try {
        names = files().list(path(p, n));
      } catch (e) {
        report(e);
        return -1;
      }
      const bytes = enc.encode(names.join("\0") + (names.length > 0 ? "\0" : ""));
      if (bytes.length <= len) m.mem().set(bytes, buf);
      return bytes.length;
    },
    fs_open: (p: number, n: number, flags: number): number => {
      try {
        const write = (flags & MG_FS_WRITE) !== 0, append = write && (flags & MG_FS_APPEND) !== 0;
        const api = files(), f = api.open(path(p, n), append ? "a" : write ? "w" : "r");
        if (f === null) return 0;
        const h = next++;
        open.set(h, { f, pos: append ? api.size(f) : 0 });
        return h;
      } catch (e) {
        report(e);
        return 0;
      }
    },
    fs_close: (h: number): void => {
      const o = open.get(h);
      if (o === undefined) return;
      open.delete(h);
      try {
        files().close(o.f);
      } catch (e) {
        report(e);
      }
    },
    fs_read: (h: number, buf: number, len: number): number => {
      const o = open.get(h);
      if (o === undefined) return -1;
      try {
        const n = files().read(o.f, m.mem().subarray(buf, buf + len), o.pos);
        o.pos += n;
        return n;
      } catch (e) {
        report(e);
        return -1;
      }
    },
    fs_write: (h: number, buf: number, len: number): number => {
      const o = open.get(h);
      if (o === undefined) return -1;
      try {
        const n = files().write(o.f, m.mem().subarray(buf, buf + len), o.pos);
        o.pos += n;
        return n;
      } catch (e) {
        report(e);
        return -1;
      }
    },
    fs_seek: (h: number, offset: number): number => {
      const o = open.get(h);
      if (o === undefined || !(offset >= 0)) return -1;
      o.pos = offset;
      return offset;
    },
    fs_rename: (f: number, fl: number, t: number, tl: number): number => {
      try {
        files().rename(path(f, fl), path(t, tl));
        return 1;
      } catch (e) {
        report(e);
        return 0;
      }
    },
    fs_remove: (p: number, n: number): number => {
      try {
        files().remove(path(p, n));
        return 1;
      } catch (e) {
        report(e);
        return 0;
      }
    },
    fs_mkdir: (p: number, n: number): number => {
      try {
        files().mkdir(path(p, n));
        return 1;
      } catch (e) {
        report(e);
        return 0;
      }
    },
  };
}

/**
 * Why `path` cannot serve as a web root (not a directory, missing, no
 * permission), or null if it can.
 */
export function rootProblem(path: string): string | null {
  try {
    const st = files().stat(path);
    if (st === null) return `${path}: no such directory`;
    return (st[0] & MG_FS_DIR) !== 0 ? null : `${path}: not a directory`;
  } catch (e) {
    return `${path}: ${e instanceof Error ? e.message : String(e)}`;
  }
}
