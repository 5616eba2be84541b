// Responses over time: a chunked JSON-lines export and Server-Sent Events.
//
//   deno run --allow-net examples/sse_chunked.ts [--listen URL]   (default http://127.0.0.1:8000)
//
//   GET /export      1000 records as JSON lines, sent chunked in pieces of 100
//                    (Transfer-Encoding: chunked; the next piece goes out when the
//                    client has taken the previous one, MG_EV_WRITE)
//   GET /events      a Server-Sent Events stream: one "tick" event every 100 ms,
//                    5 of them, then the stream ends (try it in a browser with
//                    `new EventSource("/events")`, or `curl -N`)

import process from "node:process";
import {
  type Connection,
  type HttpMessage,
  Manager,
  MG_EV_CLOSE,
  MG_EV_HTTP_MSG,
  MG_EV_WRITE,
} from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "http://127.0.0.1:8000";

const RECORDS = 1000;
const PIECE = 100;
const exports = new Map<Connection, number>(); // connection → next record to send
const ticking = new Map<Connection, number>(); // connection → events sent

function sendPiece(c: Connection, from: number): void {
  let text = "";
  for (let i = from; i < Math.min(from + PIECE, RECORDS); i++) {
    text += JSON.stringify({ id: i, square: i * i }) + "\n";
  }
  c.chunk(text);
  if (from + PIECE >= RECORDS) {
    c.chunk(""); // an empty chunk ends the response
    exports.delete(c);
  } else {
    exports.set(c, from + PIECE);
  }
}

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) {
    const hm = data as HttpMessage;
    if (hm.uri === "/export") {
      c.startChunked(200, { "Content-Type": "application/x-ndjson" });
      sendPiece(c, 0);
    } else if (hm.uri === "/events") {
      c.startSse();
      c.sse({ event: "hello", data: "first line\nsecond line", retry: 1000 });
      ticking.set(c, 0);
    } else {
      c.reply(404, "not found\n", { "Content-Type": "text/plain" });
    }
  } else if (ev === MG_EV_WRITE && exports.has(c) && c.sendLen === 0) {
    sendPiece(c, exports.get(c) as number); // the client took the last piece
  } else if (ev === MG_EV_CLOSE) {
    exports.delete(c);
    ticking.delete(c);
  }
});

// One timer for every event stream
mgr.timerAdd(100, () => {
  for (const [c, n] of ticking) {
    c.sse({ event: "tick", id: String(n + 1), data: JSON.stringify({ n: n + 1 }) });
    if (n + 1 === 5) {
      c.chunk(""); // end the stream
      ticking.delete(c);
    } else {
      ticking.set(c, n + 1);
    }
  }
}, { repeat: true });

console.log(`sse_chunked listening on http://${lsn.localAddr}`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("sse_chunked stopped");
