// REST API: an in-memory list of items as JSON.
//
//   deno run --allow-net examples/rest_api.ts [--listen URL]   (default http://127.0.0.1:8000)
//
//   GET    /api/items       all items
//   POST   /api/items       {"name": "..."} -> 201 with the new item
//   GET    /api/items/ID    one item, or 404
//   DELETE /api/items/ID    204, or 404

import process from "node:process";
import { type Connection, type HttpMessage, Manager, match, MG_EV_HTTP_MSG } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "http://127.0.0.1:8000";

interface Item {
  id: number;
  name: string;
}
const items = new Map<number, Item>();
let nextId = 1;

function handle(c: Connection, hm: HttpMessage): void {
  const method = hm.method;
  if (hm.uri === "/api/items") {
    if (method === "GET") return c.replyJson([...items.values()]);
    if (method === "POST") {
      let name: unknown;
      try {
        name = (JSON.parse(hm.text) as { name?: unknown }).name;
      } catch {
        // not JSON: answered below
      }
      if (typeof name !== "string" || name === "") {
        return c.replyJson({ error: 'expected {"name": "..."}' }, 400);
      }
      const item = { id: nextId++, name };
      items.set(item.id, item);
      return c.replyJson(item, 201, { Location: `/api/items/${item.id}` });
    }
    return c.replyJson({ error: "method not allowed" }, 405, { Allow: "GET, POST" });
  }
  // match() is mg_match: '*' captures one path segment
  const caps = match(hm.uri, "/api/items/*");
  const id = caps !== null && /^\d+$/.test(caps[0]) ? Number(caps[0]) : NaN;
  const item = items.get(id);
  if (caps === null) return c.replyJson({ error: "not found" }, 404);
  if (item === undefined) return c.replyJson({ error: `no item ${caps[0]}` }, 404);
  if (method === "GET") return c.replyJson(item);
  if (method === "DELETE") {
    items.delete(id);
    return c.reply(204);
  }
  c.replyJson({ error: "method not allowed" }, 405, { Allow: "GET, DELETE" });
}

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) handle(c, data as HttpMessage);
}, { events: [MG_EV_HTTP_MSG] }); // only requests cross into JavaScript

console.log(`rest_api listening on http://${lsn.localAddr}/api/items`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("rest_api stopped");
