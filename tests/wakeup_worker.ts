// The worker of tests/wakeup_test.ts (not a test itself): it gets the
// Manager's wakeup port first, then jobs `{ id, n, delay? }`; it computes
// fib(n) off the event loop and posts `{ id, data }` to the wakeup port.

import { parentPort } from "node:worker_threads";

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

let wake: MessagePort | undefined;
parentPort?.on("message", (m: { port?: MessagePort; id?: number; n?: number; delay?: number }) => {
  if (m.port !== undefined) {
    wake = m.port;
    return;
  }
  const n = m.n ?? 0;
  const data = `fib(${n}) = ${fib(n)}`;
  const post = () => wake?.postMessage({ id: m.id, data });
  if (m.delay) setTimeout(post, m.delay);
  else post();
});
