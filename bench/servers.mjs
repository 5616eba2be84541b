// The servers under test of `make bench` (imported by run.mjs). Each entry:
//   name, label, runtime, role ("wasmgoose" | "competitor" | "baseline"),
//   cmd(port, ctx) → argv (run from the repository root), needs: files that must
//   exist (else the row says "skipped"), only: the workloads it takes part in
//   (default: every workload it answers correctly; a 404 means "not implemented"),
//   env: extra environment. ctx = { ROOT, DENO, NODE, BUN, PY, STATIC_DIR, nginxConf(port) }.
// `counterpart` names the idiomatic server of the same runtime for "vs same runtime".
// SPDX-License-Identifier: MIT

export const SERVERS = [
  {
    name: "wasmgoose-deno",
    label: "wasmgoose on Deno",
    runtime: "deno",
    role: "wasmgoose",
    counterpart: "deno-serve",
    needs: ["mod.ts", "bench/servers/wasmgoose_api.mjs"],
    cmd: (port, x) => [x.DENO, "run", "-A", "bench/servers/wasmgoose_api.mjs", String(port)],
  },
  {
    name: "wasmgoose-node",
    label: "wasmgoose on Node",
    runtime: "node",
    role: "wasmgoose",
    counterpart: "node-http",
    needs: ["dist/mod.js"],
    cmd: (port, x) => [x.NODE, "bench/servers/wasmgoose_api.mjs", String(port)],
  },
  {
    name: "wasmgoose-bun",
    label: "wasmgoose on Bun",
    runtime: "bun",
    role: "wasmgoose",
    counterpart: "bun-serve",
    needs: ["dist/mod.js"],
    cmd: (port, x) => [x.BUN, "bench/servers/wasmgoose_api.mjs", String(port)],
  },
  {
    name: "wasmgoose-router",
    label: "wasmgoose router on Deno",
    runtime: "deno",
    role: "wasmgoose",
    needs: ["bench/servers/wasmgoose_router.mjs"],
    cmd: (port, x) => [x.DENO, "run", "-A", "bench/servers/wasmgoose_router.mjs", String(port)],
  },
  {
    name: "wasmgoose-router-node",
    label: "wasmgoose router on Node",
    runtime: "node",
    role: "wasmgoose",
    needs: ["bench/servers/wasmgoose_router.mjs", "dist/mod.js"],
    cmd: (port, x) => [x.NODE, "bench/servers/wasmgoose_router.mjs", String(port)],
  },
  {
    name: "wasmgoose-serve",
    label: "wasmgoose serve() (fetch handler) on Deno",
    runtime: "deno",
    role: "wasmgoose",
    needs: ["bench/servers/wasmgoose_serve.mjs"],
    cmd: (port, x) => [x.DENO, "run", "-A", "bench/servers/wasmgoose_serve.mjs", String(port)],
  },
  {
    name: "wasmgoose-serve-node",
    label: "wasmgoose serve() (fetch handler) on Node",
    runtime: "node",
    role: "wasmgoose",
    needs: ["bench/servers/wasmgoose_serve.mjs", "dist/mod.js"],
    cmd: (port, x) => [x.NODE, "bench/servers/wasmgoose_serve.mjs", String(port)],
  },
  {
    name: "native-addon-node",
    label: "native addon on Node",
    runtime: "node",
    role: "baseline",
    needs: ["dist/src/native.js", "native/addon/build/Release/wasmgoose_native.node"],
    cmd: (port, x) => [x.NODE, "bench/servers/wasmgoose_api.mjs", String(port), "native"],
  },
  {
    name: "native-addon-deno",
    label: "native addon on Deno",
    runtime: "deno",
    role: "baseline",
    needs: ["src/native.ts", "native/addon/build/Release/wasmgoose_native.node"],
    cmd: (
      port,
      x,
    ) => [x.DENO, "run", "-A", "bench/servers/wasmgoose_api.mjs", String(port), "native"],
  },
  {
    name: "native-c",
    label: "native C (Mongoose core)",
    runtime: "native",
    role: "baseline",
    needs: ["bench/native/hello"],
    cmd: (port, x) => [`${x.ROOT}/bench/native/hello`, String(port)],
  },
  {
    name: "cymongoose",
    label: "cymongoose (Python, PyPI)",
    runtime: "python",
    role: "competitor",
    needs: ["build/venv/bin/python"],
    cmd: (port, x) => [x.PY, "bench/servers/cymongoose_server.py", String(port)],
  },
  {
    name: "deno-serve",
    label: "Deno.serve",
    runtime: "deno",
    role: "competitor",
    cmd: (port, x) => [x.DENO, "run", "--allow-net", "bench/servers/deno_serve.ts", String(port)],
  },
  {
    name: "node-http",
    label: "node:http",
    runtime: "node",
    role: "competitor",
    cmd: (port, x) => [x.NODE, "bench/servers/node_http.mjs", String(port)],
  },
  {
    name: "bun-serve",
    label: "Bun.serve",
    runtime: "bun",
    role: "competitor",
    cmd: (port, x) => [x.BUN, "bench/servers/bun_serve.mjs", String(port)],
  },
  {
    name: "hono-deno",
    label: "Hono on Deno",
    runtime: "deno",
    role: "competitor",
    needs: ["bench/servers/hono_deno.ts"],
    cmd: (port, x) => [x.DENO, "run", "-A", "bench/servers/hono_deno.ts", String(port)],
  },
  {
    name: "fastify-node",
    label: "Fastify on Node",
    runtime: "node",
    role: "competitor",
    needs: ["bench/servers/fastify_node.mjs"],
    cmd: (port, x) => [x.NODE, "bench/servers/fastify_node.mjs", String(port)],
  },
  {
    name: "aiohttp",
    label: "aiohttp (Python)",
    runtime: "python",
    role: "competitor",
    needs: ["build/venv/bin/python"],
    cmd: (port, x) => [x.PY, "bench/servers/aiohttp_server.py", String(port)],
  },
  {
    name: "fastapi",
    label: "FastAPI on uvicorn (Python)",
    runtime: "python",
    role: "competitor",
    needs: ["build/venv/bin/python"],
    cmd: (port, x) => [x.PY, "bench/servers/fastapi_server.py", String(port)],
  },
  {
    name: "flask",
    label: "Flask, threaded Werkzeug (Python)",
    runtime: "python",
    role: "competitor",
    needs: ["build/venv/bin/python"],
    cmd: (port, x) => [x.PY, "bench/servers/flask_server.py", String(port)],
  },
  {
    name: "nginx",
    label: "nginx (Debian, 1 worker)",
    runtime: "native",
    role: "competitor",
    only: ["hello", "static-1k", "static-100k", "static-1m", "idle"],
    bin: "/usr/sbin/nginx",
    cmd: (port, x) => ["/usr/sbin/nginx", "-c", x.nginxConf(port), "-g", "daemon off;"],
  },
  {
    name: "sirv-node",
    label: "sirv on node:http",
    runtime: "node",
    role: "competitor",
    only: ["static-1k", "static-100k", "static-1m"],
    needs: ["node_modules/sirv/package.json"],
    cmd: (port, x) => [x.NODE, "bench/servers/sirv_node.mjs", String(port)],
  },
  // WebSocket-only servers (the HTTP servers above that serve /ws take part too).
  {
    name: "ws-node",
    label: "ws (npm) on Node",
    runtime: "node",
    role: "competitor",
    only: ["ws"],
    needs: ["node_modules/ws/package.json"],
    cmd: (port, x) => [x.NODE, "bench/servers/ws_node.mjs", String(port)],
  },
  {
    name: "deno-ws",
    label: "Deno.serve + upgradeWebSocket",
    runtime: "deno",
    role: "competitor",
    only: ["ws"],
    cmd: (port, x) => [x.DENO, "run", "--allow-net", "bench/servers/deno_ws.ts", String(port)],
  },
];

/** nginx.conf for one port: 1 worker, hello JSON on /, files under STATIC_DIR. */
export function nginxConfig(port, staticDir, tmpDir, asRoot) {
  return `# generated by bench/run.mjs
${asRoot ? "user root;\n" : ""}worker_processes 1;
error_log ${tmpDir}/error.log error;
pid ${tmpDir}/nginx.pid;
worker_rlimit_nofile 30000;
events { worker_connections 20000; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  client_body_temp_path ${tmpDir}/body;
  proxy_temp_path ${tmpDir}/proxy;
  fastcgi_temp_path ${tmpDir}/fastcgi;
  uwsgi_temp_path ${tmpDir}/uwsgi;
  scgi_temp_path ${tmpDir}/scgi;
  types { application/octet-stream bin; }
  server {
    listen 127.0.0.1:${port};
    root ${staticDir};
    location = / { default_type application/json; return 200 '{"message":"Hello, World!"}'; }
    location /static/ { }
  }
}
`;
}
