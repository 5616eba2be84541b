// The shortened soak (tests/soak.ts): 100,000 keep-alive requests and 10,000
// new connections, then the C heap and the WebAssembly memory are back where
// they were after the warm-up, no connection and no file descriptor is left,
// and the process RSS is near its start. `make soak` runs the long one.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runSoak } from "./soak.ts";

const MiB = 1048576;

test("soak: 100k keep-alive requests and 10k connections leave nothing behind", async () => {
  const r = await runSoak(100_000, 10_000, 1); // "before" is after an equal warm-up round
  const { before, after } = r;
  const show = JSON.stringify({ before, after });
  assert.equal(r.leftover, 0, "no connection left in the Manager");
  assert.equal(after.cConnections, 1, "only the listener is left in C");
  assert.ok(after.heapTop <= before.heapTop + MiB, `C heap did not grow: ${show}`);
  assert.ok(after.memoryBytes <= before.memoryBytes + MiB, `WASM memory did not grow: ${show}`);
  if (before.fds >= 0) assert.equal(after.fds, before.fds, `no descriptor left open: ${show}`);
  // RSS: a second round of the same size must not add much (the JS garbage
  // of the in-process clients is not collected on demand; a leak of the C
  // heap or of connections is caught exactly by the checks above).
  assert.ok(after.rss <= before.rss + 64 * MiB, `RSS near its start: ${show}`);
});
