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
import { processId, runWorkers, workerDone, workerIndex } from "./workers.ts";

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
  `Usage: wasmgoose [--listen URL] [--root DIR | --app MODULE] [--cert FILE --key FILE]
                 [--workers N] [--help]

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
  -w, --workers N    run N worker processes sharing the port (SO_REUSEPORT on
                     Deno, which then needs --allow-run; node:cluster on Node);
                     a worker that dies is restarted; responses carry the
                     headers X-Worker (index) and X-Worker-Pid
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

/** The hello handler of worker `index`: its responses name the worker. */
function helloWorker(index: number): (c: Connection, ev: number, data: unknown) => void {
  const headers: Record<string, string> = {
    ...JSON_HEADERS,
    "X-Worker": String(index),
    "X-Worker-Pid": String(processId()),
  };
  return (c, _ev, data) => {
    const hm = data as HttpMessage;
    const method = hm.method;
    if (hm.uri === "/" && (method === "GET" || method === "HEAD")) {
      c.reply(200, HELLO, headers);
    } else {
      c.reply(404, NOT_FOUND, headers);
    }
  };
}

/**
 * `url` with port 0 replaced by a free port (the workers must all bind the
 * same one); `url` itself for any other port.
 */
function fixPort(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(\[[^\]]*\]|[^/:]*):0(\/.*)?$/i.exec(url);
  if (m === null) return url;
  const mgr = new Manager();
  try {
    const addr = mgr.listen(`tcp://${m[2]}:0`).localAddr;
    if (addr === "") throw new Error("--workers with port 0 needs an IP address");
    return `${m[1]}${addr}${m[3] ?? ""}`;
  } finally {
    mgr.close();
  }
}

/** The primary of `--workers`: starts the workers, waits until they stop. */
async function primary(args: string[], opts: CliOptions): Promise<number> {
  let url: string;
  try {
    url = fixPort(opts.listen);
  } catch (e) {
    console.error(`wasmgoose: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const wargs = [...args.filter((_, i) => !isListenArg(args, i)), "--listen", url];
  console.log(`wasmgoose: ${opts.workers} workers on ${url}`);
  let done: Promise<number>;
  try {
    done = runWorkers({
      workers: opts.workers,
      args: wargs,
      onStart: (i, pid) => console.log(`wasmgoose: worker ${i} started (pid ${pid})`),
      onExit: (i, code, sig, restart) => {
        if (restart) {
          console.log(
            `wasmgoose: worker ${i} died (${sig ?? `exit code ${code}`}); restarting it`,
          );
        }
      },
    });
  } catch (e) {
    console.error(`wasmgoose: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  return await done;
}

/** Whether `args[i]` is part of a --listen option. */
function isListenArg(args: string[], i: number): boolean {
  const a = args[i];
  if (a === "-l" || a === "--listen" || a.startsWith("--listen=")) return true;
  const prev = args[i - 1];
  return i > 0 && (prev === "-l" || prev === "--listen");
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
  workers: number;
}

/** Parses `args`; returns an error message for bad ones. */
function parseArgs(args: string[]): CliOptions | string {
  const opts: CliOptions = { listen: DEFAULT_URL, root: undefined, help: false, workers: 1 };
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
    } else if (a === "-w" || a === "--workers" || a.startsWith("--workers=")) {
      const v = a.startsWith("--workers=") ? a.slice(10) : args[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 256) {
        return "--workers needs a number from 1 to 256";
      }
      opts.workers = Number(v);
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
  if (opts.app !== undefined && opts.workers > 1) {
    console.error("wasmgoose: --workers does not support --app yet");
    return 2;
  }
  if (opts.app !== undefined) return await serveApp(opts.app, opts.listen);
  const index = opts.workers > 1 ? workerIndex() : undefined;
  if (opts.workers > 1 && index === undefined) return await primary(args, opts);
  const mgr = new Manager();
  let lsn: Connection;
  try {
    if ((opts.cert === undefined) !== (opts.key === undefined)) {
      throw new Error("--cert and --key go together");
    }
    const tls = opts.cert !== undefined && opts.key !== undefined
      ? { cert: readPemFile(opts.cert), key: readPemFile(opts.key) }
      : undefined;
    const handler = opts.root !== undefined
      ? staticFiles(opts.root)
      : index === undefined
      ? hello
      : helloWorker(index);
    lsn = mgr.listen(opts.listen, handler, {
      events: [MG_EV_HTTP_MSG],
      tls,
      reusePort: index !== undefined,
    });
  } catch (e) {
    console.error(`wasmgoose: ${e instanceof Error ? e.message : String(e)}`);
    mgr.close();
    return 1;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(opts.listen)?.[1] ?? "http";
  if (index === undefined) {
    console.log(`wasmgoose listening on ${scheme}://${lsn.localAddr}`);
  } else {
    // A node:cluster worker binds later, through the primary: print the URL.
    const bound = lsn.localAddr !== "" && !lsn.localAddr.endsWith(":0");
    const where = bound ? `${scheme}://${lsn.localAddr}` : opts.listen;
    console.log(`wasmgoose worker ${index} (pid ${processId()}) listening on ${where}`);
  }
  try {
    await mgr.run();
  } catch {
    return 1; // fatal error, already reported
  } finally {
    if (index !== undefined) workerDone();
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
