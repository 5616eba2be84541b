/**
 * `--app MODULE` of the CLI: serves the `fetch` of a module's default export
 * (`export default { fetch }`, e.g. a Hono app) with {@link serve}.
 *
 * @module
 */

import { serve, type ServeHandler } from "./serve.ts";

function cwd(): string {
  const deno = (globalThis as { Deno?: { cwd(): string } }).Deno;
  if (deno !== undefined) return deno.cwd();
  const proc = (globalThis as { process?: { cwd(): string } }).process;
  return proc?.cwd() ?? "/";
}

/**
 * Imports `path` (relative to the working directory, or a URL) and serves
 * its default export's `fetch` on `listen` (an `http://host:port` URL) until
 * SIGINT/SIGTERM. Resolves with the exit code.
 *
 * @example
 * ```ts
 * const code = await serveApp("./app.ts", "http://127.0.0.1:8000");
 * ```
 */
export async function serveApp(path: string, listen: string): Promise<number> {
  const m = /^(https?):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/i.exec(listen);
  if (m === null || m[1].toLowerCase() !== "http") {
    console.error(`wasmgoose: --app serves http://HOST:PORT URLs, not ${listen}`);
    return 2;
  }
  const hostname = m[2].replace(/^\[|\]$/g, "");
  const port = m[3] === undefined ? 80 : Number(m[3]);
  const url = /^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path)
    ? path
    : new URL(path, "file://" + cwd().replace(/\/?$/, "/")).href;
  let mod: { default?: { fetch?: unknown } };
  try {
    mod = await import(url);
  } catch (e) {
    console.error(`wasmgoose: cannot load ${path}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const app = mod.default;
  if (app === undefined || app === null || typeof app.fetch !== "function") {
    console.error(`wasmgoose: ${path} has no default export with a fetch() method`);
    return 1;
  }
  const fetch = app.fetch as ServeHandler;
  let server;
  try {
    server = serve({
      hostname,
      port,
      onListen: (a) => {
        const h = a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname;
        console.log(`wasmgoose listening on http://${h}:${a.port} (serving ${path})`);
      },
    }, (req, info) => fetch.call(app, req, info));
  } catch (e) {
    console.error(`wasmgoose: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const stop = () => server.shutdown();
  const deno = (globalThis as {
    Deno?: {
      addSignalListener(s: string, f: () => void): void;
      removeSignalListener(s: string, f: () => void): void;
    };
  }).Deno;
  const proc = (globalThis as {
    process?: { on(s: string, f: () => void): void; off(s: string, f: () => void): void };
  }).process;
  for (const sig of ["SIGINT", "SIGTERM"]) {
    if (deno !== undefined) deno.addSignalListener(sig, stop);
    else proc?.on(sig, stop);
  }
  await server.finished;
  for (const sig of ["SIGINT", "SIGTERM"]) {
    if (deno !== undefined) deno.removeSignalListener(sig, stop);
    else proc?.off(sig, stop);
  }
  return 0;
}
