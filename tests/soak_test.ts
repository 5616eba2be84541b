// The shortened soak (tests/soak.ts): 100,000 keep-alive requests and 10,000
// new connections, then the C heap and the WebAssembly memory are back where
// they were after the warm-up, no connection and no file descriptor is left,
// and the process RSS is near its start. `make soak` runs the long one.
//
// The soak runs in a child process of the same runtime, so that its RSS is its
// own: in one `deno test tests/` process the garbage of every other test file
// moves the RSS by tens of MiB.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { SoakResult } from "./soak.ts";

const MiB = 1048576;
const here = dirname(fileURLToPath(import.meta.url));

/** The command that runs tests/soak.ts on the runtime running this test. */
function soakCommand(): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno !== undefined) return [deno.execPath(), ["run", "-A", join(here, "soak.ts")]];
  if (process.versions.bun !== undefined) return [process.execPath, [join(here, "soak.ts")]];
  return [process.execPath, [join(here, "soak.js")]]; // dist-test/tests/ on Node
}

function runChild(): Promise<SoakResult> {
  const [cmd, args] = soakCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: {
        ...process.env,
        SOAK_JSON: "1",
        SOAK_REQUESTS: "100000",
        SOAK_CONNS: "10000",
        SOAK_WARMUP: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (s: string) => out += s);
    child.stderr?.on("data", (s: string) => out += s);
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("SOAK_RESULT "));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${out}`));
      } else {
        resolve(JSON.parse(line.slice("SOAK_RESULT ".length)) as SoakResult);
      }
    });
  });
}

test("soak: 100k keep-alive requests and 10k connections leave nothing behind", async (t) => {
  const [, args] = soakCommand();
  if (!existsSync(args[args.length - 1])) {
    return t.skip("the compiled soak is missing: run make dist");
  }
  const r = await runChild(); // "before" is after an equal warm-up round
  const { before, after } = r;
  const show = JSON.stringify({ before, after });
  assert.equal(r.requests, 100_000);
  assert.equal(r.connections, 10_000);
  assert.equal(r.leftover, 0, "no connection left in the Manager");
  assert.equal(after.cConnections, 1, "only the listener is left in C");
  assert.ok(after.heapTop <= before.heapTop + MiB, `C heap did not grow: ${show}`);
  assert.ok(after.memoryBytes <= before.memoryBytes + MiB, `WASM memory did not grow: ${show}`);
  if (before.fds >= 0) assert.equal(after.fds, before.fds, `no descriptor left open: ${show}`);
  // RSS: a second round of the same size must not add much (a leak of the C
  // heap or of connections is caught exactly by the checks above).
  assert.ok(after.rss <= before.rss + 48 * MiB, `RSS near its start: ${show}`);
});
