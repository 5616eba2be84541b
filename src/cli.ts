/**
 * The `wasmgoose` command line: serves the hello JSON, or with `--root DIR`
 * the files of a directory.
 *
 * ```sh
 * deno run -A mod.ts [--listen URL] [--root DIR]
 * npx wasmgoose [--listen URL] [--root DIR]
 * ```
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import { MG_EV_HTTP_MSG } from "./constants.ts";
import type { HttpMessage } from "./http.ts";
import { Manager } from "./manager.ts";
import { encoder } from "./abi.ts";
import { readPemFile } from "./host/tls.ts";
import type { ServeDirOptions } from "./static.ts";
import { rootProblem } from "./host/fs.ts";
import { serveApp } from "./app.ts";

/**
 * The default listening URL of the CLI.
 *
 * @example
 * ```ts
 * console.log(DEFAULT_URL); // http://0.0.0.0:8000
 * ```
 */
export const DEFAULT_URL = "http://0.0.0.0:8000";

/**
 * The CLI's usage text.
 *
 * @example
 * ```ts
 * console.log(USAGE);
 * ```
 */
export const USAGE: string =
  `Usage: wasmgoose [--listen URL] [--root DIR | --app MODULE] [--cert FILE --key FILE] [--help]

Serves {"message":"Hello, World!"} on GET / (404 {"error":"Not Found"} elsewhere)
with the Mongoose HTTP server compiled to WebAssembly; with --root, serves the
files under DIR instead (directory listings, ranges, ETag, precompressed .gz).

Options:
  -l, --listen URL   address to serve on (default ${DEFAULT_URL});
                     port 0 picks a free port; https://... needs --cert and --key
  -r, --root DIR     serve the files of DIR (static file server)
      --app MODULE   serve the fetch() of MODULE's default export
                     (export default { fetch }, e.g. a Hono app) instead
      --cert FILE    TLS certificate chain (PEM) of an https:// listener
      --key FILE     its private key (PEM)
  -h, --help         show this help and exit

Stop with Ctrl-C (SIGINT) or SIGTERM.`;

const HELLO = encoder.encode('{"message":"Hello, World!"}');
const NOT_FOUND = encoder.encode('{"error":"Not Found"}');
const JSON_HEADERS: Record<string, string> = Object.freeze({
  "Content-Type": "application/json",
});

/** The CLI's request handler (subscribed to MG_EV_HTTP_MSG only). */
function hello(c: Connection, _ev: number, data: unknown): void {
  const hm = data as HttpMessage;
  const method = hm.method;
  if (hm.uri === "/" && (method === "GET" || method === "HEAD")) {
    c.reply(200, HELLO, JSON_HEADERS);
  } else {
    c.reply(404, NOT_FOUND, JSON_HEADERS);
  }
}

/** The request handler of `--root`: the files under `rootDir`. */
function staticFiles(rootDir: string): (c: Connection, ev: number, data: unknown) => void {
  const opts: ServeDirOptions = { rootDir };
  return (c, _ev, data) => c.serveDir(data as HttpMessage, opts);
}

/** Parsed command line. */
interface CliOptions {
  listen: string;
  root: string | undefined;
  help: boolean;
  cert?: string;
  key?: string;
  app?: string;
}

/** Parses `args`; returns an error message for bad ones. */
function parseArgs(args: string[]): CliOptions | string {
  const opts: CliOptions = { listen: DEFAULT_URL, root: undefined, help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--help") {
      opts.help = true;
    } else if (a === "-l" || a === "--listen") {
      const v = args[++i];
      if (v === undefined || v === "") return `${a} needs a URL`;
      opts.listen = v;
    } else if (a === "--cert" || a === "--key") {
      const v = args[++i];
      if (v === undefined || v === "") return `${a} needs a file`;
      opts[a === "--cert" ? "cert" : "key"] = v;
    } else if (a === "-r" || a === "--root") {
      const v = args[++i];
      if (v === undefined || v === "") return `${a} needs a directory`;
      opts.root = v;
    } else if (a.startsWith("--root=")) {
      const v = a.slice(7);
      if (v === "") return "--root needs a directory";
      opts.root = v;
    } else if (a.startsWith("--listen=")) {
      const v = a.slice(9);
      if (v === "") return "--listen needs a URL";
      opts.listen = v;
    } else if (a === "--app" || a.startsWith("--app=")) {
      const v = a === "--app" ? args[++i] : a.slice(6);
      if (v === undefined || v === "") return "--app needs a module";
      opts.app = v;
    } else {
      return `unknown argument: ${a}`;
    }
  }
  return opts;
}

/**
 * Runs the CLI with `args` (without the program name); resolves with the
 * exit code once the server stops (SIGINT / SIGTERM).
 *
 * @example
 * ```ts
 * const code = await main(["--listen", "http://127.0.0.1:8080"]);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === "string") {
    console.error(`wasmgoose: ${opts}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (opts.root !== undefined && opts.app !== undefined) {
    console.error("wasmgoose: --root and --app do not go together");
    return 2;
  }
  if (opts.root !== undefined) {
    const why = rootProblem(opts.root);
    if (why !== null) {
      console.error(`wasmgoose: --root ${why}`);
      return 2;
    }
  }
  if (opts.app !== undefined) return await serveApp(opts.app, opts.listen);
  const mgr = new Manager();
  let lsn: Connection;
  try {
    if ((opts.cert === undefined) !== (opts.key === undefined)) {
      throw new Error("--cert and --key go together");
    }
    const tls = opts.cert !== undefined && opts.key !== undefined
      ? { cert: readPemFile(opts.cert), key: readPemFile(opts.key) }
      : undefined;
    lsn = mgr.listen(opts.listen, opts.root === undefined ? hello : staticFiles(opts.root), {
      events: [MG_EV_HTTP_MSG],
      tls,
    });
  } catch (e) {
    console.error(`wasmgoose: ${e instanceof Error ? e.message : String(e)}`);
    mgr.close();
    return 1;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(opts.listen)?.[1] ?? "http";
  console.log(`wasmgoose listening on ${scheme}://${lsn.localAddr}`);
  try {
    await mgr.run();
  } catch {
    return 1; // fatal error, already reported
  }
  return 0;
}

/**
 * The process's command-line arguments (Deno, Node.js or Bun).
 *
 * @example
 * ```ts
 * const args = cliArgs();
 * ```
 */
export function cliArgs(): string[] {
  const deno = (globalThis as { Deno?: { args: string[] } }).Deno;
  if (deno !== undefined) return deno.args;
  const proc = (globalThis as { process?: { argv: string[] } }).process;
  return proc === undefined ? [] : proc.argv.slice(2);
}

/**
 * Runs the CLI on the process's arguments and sets the exit code.
 *
 * @example
 * ```ts
 * runCli();
 * ```
 */
export function runCli(): Promise<void> {
  return main(cliArgs()).then((code) => {
    const deno = (globalThis as { Deno?: { exit(code: number): never } }).Deno;
    if (deno !== undefined) {
      if (code !== 0) deno.exit(code);
      return;
    }
    const proc = (globalThis as { process?: { exitCode?: number | string } })
      .process;
    if (proc !== undefined && code !== 0) proc.exitCode = code;
  });
}
