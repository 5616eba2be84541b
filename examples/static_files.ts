// Static file server: the files under a directory, with directory listings,
// Range requests, ETag / 304, precompressed .gz files, and 400 for any path
// that would leave the root.
//
//   deno run --allow-net --allow-read examples/static_files.ts \
//     [--listen URL] [--root DIR]   (default http://127.0.0.1:8000, .)

import process from "node:process";
import { type HttpMessage, Manager, MG_EV_HTTP_MSG } from "../mod.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : def;
};
const listen = opt("--listen", "http://127.0.0.1:8000");
const rootDir = opt("--root", ".");

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, _ev, data) => {
  // Files are streamed in 64 KiB pieces as the client reads them.
  c.serveDir(data as HttpMessage, {
    rootDir,
    extraHeaders: { "Cache-Control": "max-age=60" },
  });
}, { events: [MG_EV_HTTP_MSG] });

console.log(`static_files listening on http://${lsn.localAddr} (root ${rootDir})`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("static_files stopped");
