/**
 * Multi-core: N processes, each with its own event loop (its own Manager
 * and WebAssembly instance), serving the same port.
 *
 * The primary process calls {@link runWorkers}; it starts the same program N
 * times as workers and restarts a worker that dies. Each worker sees
 * {@link workerIndex} as its index and listens with `reusePort: true`:
 *
 * - Deno: the workers are `deno run` child processes (the primary needs
 *   `--allow-run`); each binds the port itself with SO_REUSEPORT (Linux) and
 *   the kernel spreads new connections over them. The workers get
 *   `--unstable-net` (needed for `reusePort` on Deno 2), `--allow-net`, and
 *   the read, write, env and sys permissions the primary has in full.
 * - Node.js (and Bun): the workers are `node:cluster` workers; the primary
 *   owns the listening socket and hands connections out round-robin.
 *
 * @example
 * ```ts
 * import {
 *   Manager,
 *   MG_EV_HTTP_MSG,
 *   runWorkers,
 *   workerDone,
 *   workerIndex,
 * } from "@wasmgoose/wasmgoose";
 *
 * const index = workerIndex();
 * if (index === undefined) {
 *   await runWorkers({ workers: 2 }); // until SIGINT / SIGTERM
 * } else {
 *   const mgr = new Manager();
 *   mgr.listen("http://0.0.0.0:8000", (c, ev) => {
 *     if (ev === MG_EV_HTTP_MSG) c.reply(200, `worker ${index}\n`);
 *   }, { reusePort: true });
 *   await mgr.run();
 *   workerDone(); // lets a node:cluster worker exit
 * }
 * ```
 *
 * @module
 */

/** The environment variable that carries a worker's index. */
const ENV = "WASMGOOSE_WORKER";
/** A worker that dies this soon after its start counts as a failed start. */
const QUICK_DEATH_MS = 1000;
/** After this many failed starts in a row, the primary gives up. */
const MAX_QUICK_DEATHS = 5;

/**
 * Options of {@link runWorkers}.
 *
 * @example
 * ```ts
 * const opts: WorkersOptions = { workers: 4, args: ["--listen", "http://0.0.0.0:8000"] };
 * ```
 */
export interface WorkersOptions {
  /** How many worker processes (1 to 256). */
  workers: number;
  /** The workers' command-line arguments (default: this process's). */
  args?: string[];
  /** Wait before restarting a worker that died (default 250 ms). */
  restartDelayMs?: number;
  /** Called when worker `index` started (also after a restart). */
  onStart?: (index: number, pid: number) => void;
  /** Called when worker `index` ended (`restart`: it will be restarted). */
  onExit?: (
    index: number,
    code: number | null,
    signal: string | null,
    restart: boolean,
  ) => void;
}

interface DenoChild {
  pid: number;
  status: Promise<{ code: number; signal: string | null }>;
  kill(sig?: string): void;
}

interface DenoLike {
  execPath(): string;
  mainModule: string;
  args: string[];
  pid: number;
  Command: new (cmd: string, opts: {
    args: string[];
    env: Record<string, string>;
    stdin: "null";
    stdout: "inherit";
    stderr: "inherit";
  }) => { spawn(): DenoChild };
  permissions: {
    querySync(d: { name: string; variable?: string; command?: string }): { state: string };
  };
  env: { get(k: string): string | undefined };
  addSignalListener(sig: string, fn: () => void): void;
  removeSignalListener(sig: string, fn: () => void): void;
}

interface ClusterWorker {
  process: { pid?: number };
  kill(sig?: string): void;
}

interface ClusterLike {
  setupPrimary(s: { args?: string[] }): void;
  fork(env: Record<string, string>): ClusterWorker;
  on(
    ev: "exit",
    fn: (w: ClusterWorker, code: number | null, signal: string | null) => void,
  ): void;
}

interface ProcLike {
  pid: number;
  argv: string[];
  env: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
  on(sig: string, fn: () => void): void;
  off(sig: string, fn: () => void): void;
}

function deno(): DenoLike | undefined {
  return (globalThis as { Deno?: DenoLike }).Deno;
}

function proc(): ProcLike | undefined {
  return (globalThis as { process?: ProcLike }).process;
}

/**
 * This process's worker index (0 to N-1) when it was started by
 * {@link runWorkers}, else `undefined` (the primary, or no workers at all).
 *
 * @example
 * ```ts
 * const index = workerIndex();
 * console.log(index === undefined ? "primary" : `worker ${index}`);
 * ```
 */
export function workerIndex(): number | undefined {
  let v: string | undefined;
  const d = deno();
  if (d !== undefined) {
    if (d.permissions.querySync({ name: "env", variable: ENV }).state !== "granted") {
      return undefined;
    }
    v = d.env.get(ENV);
  } else {
    v = proc()?.env[ENV];
  }
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/**
 * Call in a worker once its Manager has stopped: lets a `node:cluster`
 * worker exit (its channel to the primary would keep it alive). Does
 * nothing on Deno or outside a worker.
 *
 * @example
 * ```ts
 * await mgr.run();
 * workerDone();
 * ```
 */
export function workerDone(): void {
  const p = proc() as (ProcLike & { connected?: boolean; disconnect?: () => void }) | undefined;
  if (deno() === undefined && p?.connected === true) p.disconnect?.();
}

/**
 * This process's id (Deno, Node.js or Bun).
 *
 * @example
 * ```ts
 * console.log(`pid ${processId()}`);
 * ```
 */
export function processId(): number {
  return deno()?.pid ?? proc()?.pid ?? 0;
}

/** One started worker, whatever the runtime. */
interface Handle {
  pid: number;
  kill(sig: string): void;
}

/** The deno flags of a worker: what the primary has in full, plus net. */
function denoFlags(d: DenoLike): string[] {
  const flags = ["--unstable-net", "--no-prompt", "--allow-net", `--allow-env=${ENV}`];
  for (const name of ["read", "write", "sys"]) {
    if (d.permissions.querySync({ name }).state === "granted") flags.push(`--allow-${name}`);
  }
  if (d.permissions.querySync({ name: "env" }).state === "granted") {
    flags[3] = "--allow-env";
  }
  return flags;
}

/**
 * Runs `opts.workers` copies of this program as worker processes sharing
 * the listening port, restarts a worker that dies (exits with an error or
 * by a signal), and on SIGINT / SIGTERM stops them all. Resolves with the
 * exit code once every worker has stopped: 0, or 1 if workers kept dying
 * right after their start. Call it from the primary only (where
 * {@link workerIndex} is `undefined`).
 *
 * @example
 * ```ts
 * if (workerIndex() === undefined) {
 *   const code = await runWorkers({
 *     workers: 2,
 *     onStart: (i, pid) => console.log(`worker ${i} started (pid ${pid})`),
 *   });
 *   console.log("all workers stopped", code);
 * }
 * ```
 */
export function runWorkers(opts: WorkersOptions): Promise<number> {
  const n = opts.workers;
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new RangeError(`workers must be an integer from 1 to 256, got ${n}`);
  }
  if (workerIndex() !== undefined) {
    throw new Error("runWorkers() called in a worker");
  }
  const delay = opts.restartDelayMs ?? 250;
  const d = deno();
  const p = proc();
  let spawnOne: (
    index: number,
    onExit: (code: number | null, sig: string | null) => void,
  ) => Handle;
  if (d !== undefined) {
    if (d.permissions.querySync({ name: "run", command: d.execPath() }).state !== "granted") {
      throw new Error("--workers on Deno needs --allow-run (to start the worker processes)");
    }
    const args = [
      "run",
      ...denoFlags(d),
      d.mainModule,
      ...(opts.args ?? d.args),
    ];
    spawnOne = (index, onExit) => {
      const child = new d.Command(d.execPath(), {
        args,
        env: { [ENV]: String(index) },
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
      child.status.then((s) => onExit(s.signal === null ? s.code : null, s.signal));
      return {
        pid: child.pid,
        kill: (sig) => {
          try {
            child.kill(sig);
          } catch {
            // already gone
          }
        },
      };
    };
  } else if (p?.getBuiltinModule !== undefined) {
    const cluster = p.getBuiltinModule("node:cluster") as ClusterLike;
    if (opts.args !== undefined) cluster.setupPrimary({ args: opts.args });
    const exits = new Map<ClusterWorker, (code: number | null, sig: string | null) => void>();
    cluster.on("exit", (w, code, sig) => {
      const f = exits.get(w);
      exits.delete(w);
      f?.(sig === null ? code : null, sig);
    });
    spawnOne = (index, onExit) => {
      const w = cluster.fork({ [ENV]: String(index) });
      exits.set(w, onExit);
      return {
        pid: w.process.pid ?? 0,
        kill: (sig) => {
          try {
            (w.process as { kill(sig: string): void }).kill(sig);
          } catch {
            // already gone
          }
        },
      };
    };
  } else {
    throw new Error("runWorkers() needs Deno, Node.js >= 20.16 or Bun");
  }

  return new Promise<number>((resolve) => {
    const live = new Map<number, Handle>();
    let stopping = false;
    let failed = false;
    let quickDeaths = 0;
    const pending = new Set<ReturnType<typeof setTimeout>>();
    const finish = () => {
      if (live.size > 0 || pending.size > 0) return;
      for (const sig of ["SIGINT", "SIGTERM"]) {
        if (d !== undefined) d.removeSignalListener(sig, stop);
        else p?.off(sig, stop);
      }
      resolve(failed ? 1 : 0);
    };
    const stop = () => {
      stopping = true;
      for (const t of pending) clearTimeout(t);
      pending.clear();
      for (const h of live.values()) h.kill("SIGTERM");
      finish();
    };
    const start = (index: number) => {
      const started = Date.now();
      const h = spawnOne(index, (code, sig) => {
        live.delete(index);
        const crashed = code !== 0 || sig !== null;
        if (crashed && Date.now() - started < QUICK_DEATH_MS) quickDeaths++;
        else quickDeaths = 0;
        if (quickDeaths >= MAX_QUICK_DEATHS && !stopping) {
          console.error(`wasmgoose: workers keep dying at start; giving up`);
          failed = true;
          stop();
        }
        const restart = crashed && !stopping;
        opts.onExit?.(index, code, sig, restart);
        if (restart) {
          const t = setTimeout(() => {
            pending.delete(t);
            if (!stopping) start(index);
            else finish();
          }, delay);
          pending.add(t);
        } else {
          finish();
        }
      });
      live.set(index, h);
      opts.onStart?.(index, h.pid);
    };
    for (const sig of ["SIGINT", "SIGTERM"]) {
      if (d !== undefined) d.addSignalListener(sig, stop);
      else p?.on(sig, stop);
    }
    for (let i = 0; i < n; i++) start(i);
  });
}
