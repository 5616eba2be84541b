/**
 * TLS options shared by the backends: TLS is done by the runtime
 * (`Deno.listenTls` / `Deno.connectTls`, `node:tls`); the C side sees plain
 * bytes.
 *
 * Internal module.
 *
 * @module
 */

import type { TlsOptions } from "../types.ts";

const utf8 = new TextDecoder();

/** PEM text of a string or of its bytes. */
export function pemText(x: string | Uint8Array): string {
  return typeof x === "string" ? x : utf8.decode(x);
}

/** The CA certificates of `tls.ca` as PEM strings (empty: the system's). */
export function caList(tls: TlsOptions | undefined): string[] {
  const ca = tls?.ca;
  if (ca === undefined) return [];
  return (Array.isArray(ca) ? ca : [ca]).map(pemText);
}

/**
 * The certificate and key of a TLS listener as PEM strings; throws a clear
 * error when one is missing.
 */
export function serverPems(tls: TlsOptions | undefined): { cert: string; key: string } {
  if (tls?.cert === undefined || tls.key === undefined) {
    throw new Error("a TLS listener (https://, wss://) needs the option tls: { cert, key }");
  }
  return { cert: pemText(tls.cert), key: pemText(tls.key) };
}

/** Reads a text file (PEM) with the runtime's file API; throws a clear error. */
export function readPemFile(path: string): string {
  const deno = (globalThis as { Deno?: { readTextFileSync(p: string): string } }).Deno;
  try {
    if (deno !== undefined) return deno.readTextFileSync(path);
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
    const fs = proc?.getBuiltinModule?.("node:fs") as
      | { readFileSync(p: string, enc: string): string }
      | undefined;
    if (fs === undefined) throw new Error("no file API");
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
