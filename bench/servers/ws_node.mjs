// Competitor WebSocket echo server for `make bench`: the `ws` npm package on Node
// (the de-facto Node WebSocket server), permessage-deflate off. Every message on
// /ws is echoed back as is (text or binary). Other requests get ws's 400/426.
// Port: first argument, else env PORT, else 8000. Listens on 127.0.0.1 only.
import process from "node:process";
import { WebSocketServer } from "ws";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
const BINARY = { binary: true };
const TEXT = { binary: false };

const wss = new WebSocketServer({
  host: "127.0.0.1",
  port,
  path: "/ws",
  perMessageDeflate: false,
  clientTracking: false,
});
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, isBinary ? BINARY : TEXT));
  ws.on("error", () => {}); // a peer that goes away is not the server's failure
});
