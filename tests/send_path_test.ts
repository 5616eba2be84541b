// The send paths of a server process, over a raw socket: pipelined small and
// large responses to a client that stops reading for a while (the server's
// sends then find the socket buffer full and must wait), compared byte for
// byte. On Deno the child runs twice: with FFI granted (writes by send(2)
// straight from WASM memory, the rest through Deno.Conn.write once the
// socket is full) and without it (Deno.Conn.write only). Runs on Deno and
// Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Raw } from "./raw_client.ts";
import { pattern } from "./send_path_pattern.ts";

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BIG = 16 * 1024 * 1024 + 5;

async function exchange(permissions: string[]): Promise<void> {
  const proc = (globalThis as unknown as { process: { execPath: string } }).process;
  const args = isDeno
    ? ["run", ...permissions, new URL("./send_path_child.ts", import.meta.url).pathname]
    : [new URL("./send_path_child.js", import.meta.url).pathname];
  const child = spawn(proc.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
  let raw: Raw | undefined;
  try {
    const deadline = Date.now() + 15_000;
    while (!/port (\d+)/.test(out)) {
      if (Date.now() > deadline) throw new Error(`the child did not listen: ${out}`);
      await sleep(10);
    }
    raw = new Raw(Number(/port (\d+)/.exec(out)![1]));
    const paths = ["/one", `/big/${BIG}`, "/two", "/big/70000", "/three"];
    raw.sock.pause(); // nothing read until everything was asked
    raw.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join(""));
    await sleep(300);
    raw.sock.resume();
    const got = await raw.waitResponses(paths.length);
    assert.deepEqual(got.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(got[0].body, "/one");
    assert.equal(got[2].body, "/two");
    assert.equal(got[4].body, "/three");
    for (const [i, n] of [[1, BIG], [3, 70000]]) {
      const want = new TextDecoder().decode(pattern(n));
      assert.equal(got[i].body.length, n);
      if (got[i].body !== want) {
        let at = 0;
        while (got[i].body[at] === want[at]) at++;
        assert.fail(`response ${i} differs from byte ${at}`);
      }
    }
  } finally {
    raw?.destroy();
    child.kill("SIGKILL");
  }
}

test("pipelined large responses to a client that stops reading arrive whole and in order", async () => {
  await exchange(["-A"]);
});

test(
  "the same without FFI permission (Deno: Deno.Conn.write only)",
  { skip: !isDeno },
  async () => {
    await exchange(["--allow-net"]);
  },
);

/** What this test uses of a Deno.Conn (typed here: Node compiles this file too). */
interface Conn {
  read(p: Uint8Array): Promise<number | null>;
  close(): void;
}

test(
  "direct sends (Deno, FFI granted): bytes of WebAssembly memory reach the peer, after growth too",
  { skip: !isDeno },
  async () => {
    const { DirectSend, SendView } = await import("../src/host/direct_send.ts");
    const D = (globalThis as unknown as {
      Deno: {
        build: { os: string };
        listen(o: { hostname: string; port: number }): {
          addr: { port: number };
          accept(): Promise<Conn>;
          close(): void;
        };
        connect(o: { hostname: string; port: number }): Promise<Conn>;
      };
    }).Deno;
    const ds = DirectSend.open(D);
    if (D.build.os !== "linux") return assert.equal(ds, null);
    assert.notEqual(ds, null, "FFI is granted in this test run: direct sends must be available");
    const lsn = D.listen({ hostname: "127.0.0.1", port: 0 });
    const client = await D.connect({ hostname: "127.0.0.1", port: lsn.addr.port });
    const server = await lsn.accept();
    try {
      const fdKey = Object.getOwnPropertySymbols(server).find((s) =>
        s.description === "Deno.internal.fd"
      );
      assert.ok(fdKey !== undefined, "Deno.Conn keeps its descriptor under Deno.internal.fd");
      const fd = (server as unknown as Record<symbol, number>)[fdKey];
      const memory = new WebAssembly.Memory({ initial: 1 });
      const sv = new SendView();
      const readAll = async (n: number): Promise<Uint8Array> => {
        const out = new Uint8Array(n);
        for (let got = 0; got < n;) {
          const k = await client.read(out.subarray(got));
          assert.ok(k !== null, "the peer saw the end early");
          got += k;
        }
        return out;
      };
      // The same place and length twice (the kept view), then after the
      // memory grew (a new buffer), then another length: [pages to grow,
      // offset, length, fill]
      const cases = [[0, 1000, 200, 1], [0, 1000, 200, 2], [1, 1000, 200, 3], [0, 70000, 5000, 4]];
      for (const [grow, at, len, fill] of cases) {
        if (grow > 0) memory.grow(grow);
        const mem = new Uint8Array(memory.buffer);
        for (let i = 0; i < len; i++) mem[at + i] = (fill * 31 + i) & 0xff;
        assert.equal(ds!.send(fd, sv, mem, at, len), len);
        assert.deepEqual(await readAll(len), mem.slice(at, at + len));
      }
      // A closed peer: -1 (the caller then goes through Deno.Conn.write), no signal
      client.close();
      await sleep(50);
      let r = 0;
      for (let i = 0; i < 20 && r >= 0; i++) {
        r = ds!.send(fd, sv, new Uint8Array(memory.buffer), 0, 100);
      }
      assert.equal(r, -1);
    } finally {
      server.close();
      lsn.close();
    }
  },
);
