// The worker of examples/worker_wakeup.ts: it first gets the Manager's wakeup
// port, then jobs `{ id, n }`; it computes fib(n) and posts `{ id, data }` to
// the wakeup port, which the Manager turns into MG_EV_WAKEUP on connection id.

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

const ctx = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
};
let wake: MessagePort | undefined;

ctx.onmessage = (e: MessageEvent) => {
  const m = e.data as { port?: MessagePort; id?: number; n?: number };
  if (m.port !== undefined) {
    wake = m.port;
    return;
  }
  const n = Math.min(Math.max(0, m.n ?? 0), 40);
  wake?.postMessage({ id: m.id, data: JSON.stringify({ n, fib: fib(n) }) });
};
