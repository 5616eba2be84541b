// Micro-benchmark of the per-request work of the WASM + TypeScript path, with
// no sockets: bytes in (mgw_recv) → parse → event → handler reply → write out.
// Shows where the user-space microseconds of the hello benchmark go.
// Run: deno run -A bench/micro/request_path.ts
import { Abi, encoder } from "../../src/abi.ts";

const REQ = encoder.encode(
  "GET / HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n",
);
const BODY = encoder.encode('{"message":"Hello, World!"}');
const HDRS = encoder.encode("Content-Type: application/json\r\n");
let written = 0;
const abi: Abi = new Abi({
  listen: () => 1,
  connect: () => -1,
  write: (_hid: number, _ptr: number, len: number) => {
    written += len;
    return len;
  },
  close: () => {},
  shutdown: () => {},
  pause: () => {},
  event: (c: number, ev: number) => {
    if (ev !== 11) return;
    const bptr = abi.stage(BODY.length + HDRS.length);
    abi.u8.set(BODY, bptr);
    abi.u8.set(HDRS, bptr + BODY.length);
    abi.x.mgw_http_reply(c, 200, bptr + BODY.length, HDRS.length, bptr, BODY.length);
  },
  timer: () => {},
  sendto: () => -1,
  resolve: () => {},
});
abi.init(65536);
const url = abi.stage(64);
encoder.encodeInto("http://127.0.0.1:1\0", abi.u8.subarray(url));
const lsn = abi.x.mgw_listen(url, 1, 1, 1 << 11);
const addrs = abi.stage(64);
encoder.encodeInto("127.0.0.1:5\x00127.0.0.1:1\x00", abi.u8.subarray(addrs));
const conn = abi.x.mgw_accept(lsn, 2, addrs);
const N = 2_000_000;
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const p = abi.stage(REQ.length);
    abi.u8.set(REQ, p);
    abi.x.mgw_recv(conn, REQ.length);
  }
  const dt = performance.now() - t0;
  console.log(`${((dt * 1e3) / N).toFixed(3)} µs per request (${written} bytes written)`);
}
