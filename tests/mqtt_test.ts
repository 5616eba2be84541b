// MQTT tests: our client against a real mosquitto (QoS 0/1/2, retained
// messages, wills, MQTT 5 user properties, keepalive, retransmission), and
// MQTT.js and mosquitto_pub/mosquitto_sub against our broker (wildcards,
// retained messages, QoS 1, wills, keepalive expiry, sessions, malformed
// packets). Only node:test and node:assert, so this runs on Deno and Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import mqtt from "mqtt";
import {
  type Connection,
  Manager,
  MG_EV_CLOSE,
  MG_EV_MQTT_CMD,
  MG_EV_MQTT_MSG,
  MG_EV_MQTT_OPEN,
  MG_LL_NONE,
  MQTT_CMD_PINGRESP,
  MQTT_CMD_PUBACK,
  MQTT_CMD_PUBCOMP,
  MQTT_CMD_SUBACK,
  MQTT_PROP,
  mqttBroker,
  type MqttConnectOptions,
  MqttMessage,
} from "../mod.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `cond()` holds (polling), failing after `ms`. */
async function until(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A free TCP port on 127.0.0.1 (for mosquitto, which cannot take port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

interface Mosquitto {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts mosquitto on a free port with anonymous access (3.1.1 and 5). */
async function startMosquitto(): Promise<Mosquitto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wg-mosq-"));
  const port = await freePort();
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`,
  );
  const proc: ChildProcess = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  let exited = false;
  proc.on("exit", () => (exited = true));
  const end = Date.now() + 10000;
  while (!(await canConnect(port))) {
    if (exited) throw new Error("mosquitto exited at start");
    if (Date.now() > end) throw new Error("mosquitto did not start");
    await sleep(50);
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      if (!exited) {
        proc.kill("SIGTERM");
        await until(() => exited, "mosquitto exit");
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Got {
  topic: string;
  text: string;
  qos: number;
  retain: boolean;
  dup: boolean;
  id: number;
  props: { id: number; name?: string; value: unknown }[];
}

/** A client of ours that records what it gets. */
interface Client {
  conn: Connection;
  open: number | undefined;
  msgs: Got[];
  cmds: { cmd: number; id: number }[];
  closed: boolean;
}

function client(
  mgr: Manager,
  url: string,
  opts: MqttConnectOptions,
  onOpen?: (c: Connection) => void,
): Client {
  const cl: Client = {
    conn: undefined as unknown as Connection,
    open: undefined,
    msgs: [],
    cmds: [],
    closed: false,
  };
  cl.conn = mgr.mqttConnect(url, opts, (c, ev, data) => {
    if (ev === MG_EV_MQTT_OPEN) {
      cl.open = data as number;
      onOpen?.(c);
    } else if (ev === MG_EV_MQTT_CMD) {
      const m = data as MqttMessage;
      cl.cmds.push({ cmd: m.cmd, id: m.id });
    } else if (ev === MG_EV_MQTT_MSG) {
      const m = data as MqttMessage;
      assert.ok(m instanceof MqttMessage);
      cl.msgs.push({
        topic: m.topic,
        text: m.text,
        qos: m.qos,
        retain: m.retain,
        dup: m.dup,
        id: m.id,
        props: m.properties(),
      });
    } else if (ev === MG_EV_CLOSE) {
      cl.closed = true;
    }
  });
  return cl;
}

/** Runs `fn` with a mosquitto and a Manager, cleaning both up. */
async function withMosquitto(fn: (m: Mosquitto, mgr: Manager) => Promise<void>): Promise<void> {
  const mosq = await startMosquitto();
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    await fn(mosq, mgr);
  } finally {
    mgr.close();
    await mosq.stop();
  }
}

/** Runs `fn` with our broker on a random port. */
async function withBroker(fn: (url: string, port: number, mgr: Manager) => Promise<void>) {
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  const lsn = mqttBroker(mgr, "mqtt://127.0.0.1:0");
  const port = Number(lsn.localAddr.split(":").pop());
  assert.ok(port > 0);
  try {
    await fn(`mqtt://127.0.0.1:${port}`, port, mgr);
  } finally {
    mgr.close();
  }
}

// ---- our client against mosquitto ------------------------------------------------

test("client vs mosquitto: QoS 0, 1 and 2 both ways, acknowledgements complete", async () => {
  await withMosquitto(async (mosq, mgr) => {
    let ids: number[] = [];
    const cl = client(mgr, mosq.url, { clientId: "wg-qos" }, (c) => {
      c.mqttSub("q/#", { qos: 2 });
    });
    await until(() => cl.cmds.some((x) => x.cmd === MQTT_CMD_SUBACK), "SUBACK");
    assert.equal(cl.open, 0);
    ids = [0, 1, 2].map((q) => cl.conn.mqttPub(`q/${q}`, `m${q}`, { qos: q }));
    assert.equal(ids[0], 0);
    assert.ok(ids[1] > 0 && ids[2] > 0 && ids[1] !== ids[2]);
    await until(() => cl.msgs.length === 3, "three messages");
    const byTopic = new Map(cl.msgs.map((m) => [m.topic, m]));
    for (const q of [0, 1, 2]) {
      const m = byTopic.get(`q/${q}`);
      assert.ok(m, `got q/${q}`);
      assert.equal(m.text, `m${q}`);
      assert.equal(m.qos, q);
    }
    // our publishes were acknowledged: PUBACK for QoS 1, PUBCOMP for QoS 2
    await until(
      () =>
        cl.cmds.some((x) => x.cmd === MQTT_CMD_PUBACK && x.id === ids[1]) &&
        cl.cmds.some((x) => x.cmd === MQTT_CMD_PUBCOMP && x.id === ids[2]),
      "PUBACK and PUBCOMP",
    );
    // and we acknowledged mosquitto's: it sent nothing twice
    await sleep(200);
    assert.equal(cl.msgs.length, 3);
  });
});

test("client vs mosquitto: retained messages, and an empty one deletes", async () => {
  await withMosquitto(async (mosq, mgr) => {
    const pub = client(mgr, mosq.url, {}, (c) => {
      c.mqttPub("r/a", "kept", { qos: 1, retain: true });
      c.mqttPub("r/b", "gone", { qos: 1, retain: true });
      c.mqttPub("r/b", "", { qos: 1, retain: true });
    });
    await until(() => pub.cmds.filter((x) => x.cmd === MQTT_CMD_PUBACK).length === 3, "PUBACKs");
    const sub = client(mgr, mosq.url, {}, (c) => c.mqttSub("r/#", { qos: 1 }));
    await until(() => sub.msgs.length >= 1, "retained message");
    await sleep(200);
    assert.equal(sub.msgs.length, 1);
    assert.equal(sub.msgs[0].topic, "r/a");
    assert.equal(sub.msgs[0].text, "kept");
    assert.equal(sub.msgs[0].retain, true);
  });
});

test("client vs mosquitto: the will is published when we vanish, not after DISCONNECT", async () => {
  await withMosquitto(async (mosq, mgr) => {
    const sub = client(mgr, mosq.url, {}, (c) => c.mqttSub("will/#", { qos: 1 }));
    await until(() => sub.cmds.some((x) => x.cmd === MQTT_CMD_SUBACK), "SUBACK");
    const polite = client(mgr, mosq.url, {
      clientId: "polite",
      will: { topic: "will/polite", message: "dead", qos: 1 },
    });
    await until(() => polite.open === 0, "CONNACK");
    polite.conn.mqttDisconnect();
    await until(() => polite.closed, "close");
    const rude = client(mgr, mosq.url, {
      clientId: "rude",
      will: { topic: "will/rude", message: "dead", qos: 1 },
    });
    await until(() => rude.open === 0, "CONNACK");
    rude.conn.close(); // no DISCONNECT
    await until(() => sub.msgs.length >= 1, "will message");
    await sleep(200);
    assert.deepEqual(sub.msgs.map((m) => [m.topic, m.text]), [["will/rude", "dead"]]);
  });
});

test("client vs mosquitto: MQTT 5 user properties and content type round-trip", async () => {
  await withMosquitto(async (mosq, mgr) => {
    const cl = client(mgr, mosq.url, { version: 5, clientId: "wg-v5" }, (c) => {
      c.mqttSub("p/#", { qos: 1 });
    });
    await until(() => cl.cmds.some((x) => x.cmd === MQTT_CMD_SUBACK), "SUBACK");
    cl.conn.mqttPub("p/1", "payload", {
      qos: 1,
      props: [
        { id: MQTT_PROP.USER_PROPERTY, name: "origin", value: "wasmgoose" },
        { id: MQTT_PROP.USER_PROPERTY, name: "k", value: "välue" },
        { id: MQTT_PROP.CONTENT_TYPE, value: "text/plain" },
        { id: MQTT_PROP.CORRELATION_DATA, value: new Uint8Array([1, 2, 3]) },
      ],
    });
    await until(() => cl.msgs.length === 1, "message");
    const props = cl.msgs[0].props;
    const users = props.filter((p) => p.id === MQTT_PROP.USER_PROPERTY)
      .map((p) => [p.name, p.value]);
    assert.deepEqual(users, [["origin", "wasmgoose"], ["k", "välue"]]);
    assert.deepEqual(
      props.find((p) => p.id === MQTT_PROP.CONTENT_TYPE)?.value,
      "text/plain",
    );
    assert.deepEqual(
      props.find((p) => p.id === MQTT_PROP.CORRELATION_DATA)?.value,
      new Uint8Array([1, 2, 3]),
    );
  });
});

test("client vs mosquitto: keepalive sends PINGREQ by itself", async () => {
  await withMosquitto(async (mosq, mgr) => {
    const cl = client(mgr, mosq.url, { keepalive: 1 });
    await until(() => cl.open === 0, "CONNACK");
    await until(() => cl.cmds.some((x) => x.cmd === MQTT_CMD_PINGRESP), "PINGRESP", 5000);
    assert.equal(cl.closed, false);
  });
});

test("client: unacknowledged QoS 1 is resent with DUP after a timeout and on reconnect", async () => {
  // A raw server: CONNACK, then it records PUBLISH packets and never acks
  const seen: { socket: number; dup: boolean; id: number }[] = [];
  let sockets = 0;
  const server = net.createServer((s) => {
    const me = ++sockets;
    let buf = Buffer.alloc(0);
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf[1]) { // short packets only
        const type = buf[0] >> 4, len = buf[1];
        const body = buf.subarray(2, 2 + len);
        if (type === 1) s.write(Buffer.from([0x20, 2, 0, 0]));
        if (type === 3) {
          const tl = body.readUInt16BE(0);
          seen.push({ socket: me, dup: (buf[0] & 8) !== 0, id: body.readUInt16BE(2 + tl) });
        }
        buf = buf.subarray(2 + len);
      }
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const mgr = new Manager();
  mgr.logLevel = MG_LL_NONE;
  try {
    const url = `mqtt://127.0.0.1:${port}`;
    let id = 0;
    const a = client(mgr, url, { retransmitMs: 300, clientId: "rt", clean: false }, (c) => {
      id = c.mqttPub("t", "x", { qos: 1 });
    });
    await until(() => seen.filter((s) => s.socket === 1).length >= 2, "a retransmission");
    assert.equal(seen[0].dup, false);
    assert.equal(seen[1].dup, true);
    assert.equal(seen[1].id, id);
    a.conn.close();
    await until(() => a.closed, "close");
    client(mgr, url, { retransmitMs: 0, clientId: "rt", clean: false, resend: a.conn });
    await until(() => seen.some((s) => s.socket === 2), "resend on the new connection");
    const again = seen.find((s) => s.socket === 2)!;
    assert.equal(again.dup, true);
    assert.equal(again.id, id);
  } finally {
    mgr.close();
    server.close();
  }
});

// ---- MQTT.js and mosquitto clients against our broker ---------------------------

function jsClient(url: string, opts: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, ...opts });
    c.once("connect", () => resolve(c));
    c.once("error", reject);
  });
}

function subscribe(c: mqtt.MqttClient, topic: string, qos: 0 | 1 | 2 = 0) {
  return new Promise<mqtt.ISubscriptionGrant[]>((resolve, reject) => {
    c.subscribe(topic, { qos }, (err, granted) => err ? reject(err) : resolve(granted ?? []));
  });
}

function publish(c: mqtt.MqttClient, topic: string, msg: string, opts: mqtt.IClientPublishOptions) {
  return new Promise<void>((resolve, reject) => {
    c.publish(topic, msg, opts, (err) => err ? reject(err) : resolve());
  });
}

function end(c: mqtt.MqttClient): Promise<void> {
  return new Promise((resolve) => c.end(false, {}, () => resolve()));
}

interface JsGot {
  topic: string;
  text: string;
  qos: number;
  retain: boolean;
}

function collect(c: mqtt.MqttClient): JsGot[] {
  const got: JsGot[] = [];
  c.on("message", (topic, payload, packet) => {
    got.push({ topic, text: payload.toString(), qos: packet.qos, retain: packet.retain });
  });
  return got;
}

test("broker vs MQTT.js: wildcards, $ topics, QoS 1 delivery and downgrade", async () => {
  await withBroker(async (url) => {
    const a = await jsClient(url);
    const b = await jsClient(url);
    const got = collect(a);
    const g1 = await subscribe(a, "s/+/t", 1);
    const g2 = await subscribe(a, "x/#", 0);
    const g3 = await subscribe(a, "#", 0);
    assert.deepEqual([g1[0].qos, g2[0].qos, g3[0].qos], [1, 0, 0]);
    await publish(b, "s/1/t", "one", { qos: 1 }); // matches s/+/t (QoS 1) and #
    await publish(b, "x", "two", { qos: 1 }); // x/# matches the parent: QoS 0
    await publish(b, "$SYS/y", "no", { qos: 0 }); // not matched by #
    await publish(b, "s/1/2/t", "three", { qos: 0 }); // only #
    await until(() => got.length >= 3, "deliveries");
    await sleep(200);
    assert.deepEqual(
      got.map((m) => [m.topic, m.text, m.qos]),
      [["s/1/t", "one", 1], ["x", "two", 0], ["s/1/2/t", "three", 0]],
    );
    await Promise.all([end(a), end(b)]);
  });
});

test("broker vs MQTT.js: retained messages (empty payload deletes), session present", async () => {
  await withBroker(async (url) => {
    const p = await jsClient(url);
    await publish(p, "r/1", "keep", { qos: 1, retain: true });
    await publish(p, "r/2", "drop", { qos: 1, retain: true });
    await publish(p, "r/2", "", { qos: 1, retain: true });
    const s = await jsClient(url);
    const got = collect(s);
    await subscribe(s, "r/#", 1);
    await until(() => got.length >= 1, "retained");
    await sleep(200);
    assert.deepEqual(got, [{ topic: "r/1", text: "keep", qos: 1, retain: true }]);
    // persistent session: the subscription survives a reconnect
    const c1 = await jsClient(url, { clientId: "persist", clean: false });
    await subscribe(c1, "ps/t", 1);
    await end(c1);
    const c2 = mqtt.connect(url, { clientId: "persist", clean: false, reconnectPeriod: 0 });
    const sp = await new Promise<boolean>((r) =>
      c2.once("connect", (ack) => r(ack.sessionPresent))
    );
    assert.equal(sp, true);
    const got2 = collect(c2);
    await publish(p, "ps/t", "still", { qos: 1 });
    await until(() => got2.length === 1, "message to the restored session");
    assert.equal(got2[0].text, "still");
    await Promise.all([end(p), end(s), end(c2)]);
  });
});

test("broker vs MQTT.js: MQTT 5 user properties pass through", async () => {
  await withBroker(async (url) => {
    const a = await jsClient(url, { protocolVersion: 5 });
    const props: Record<string, string | string[]>[] = [];
    a.on("message", (_t, _p, packet) => {
      props.push((packet.properties?.userProperties ?? {}) as Record<string, string>);
    });
    await subscribe(a, "v5/#", 1);
    await publish(a, "v5/x", "hi", { qos: 1, properties: { userProperties: { who: "me" } } });
    await until(() => props.length === 1, "message");
    assert.deepEqual({ ...props[0] }, { who: "me" });
    await end(a);
  });
});

test("broker: wills on abnormal close and keepalive expiry, not after DISCONNECT", async () => {
  await withBroker(async (url, port) => {
    const s = await jsClient(url);
    const got = collect(s);
    await subscribe(s, "will/#", 1);
    const polite = await jsClient(url, { will: { topic: "will/polite", payload: "x", qos: 1 } });
    await end(polite);
    const rude = await jsClient(url, { will: { topic: "will/rude", payload: "gone", qos: 1 } });
    rude.stream.destroy();
    await until(() => got.length >= 1, "will of a vanished client");
    // a raw client with keepalive 1 that then stays silent: dropped after 1.5 s
    const raw = net.connect(port, "127.0.0.1");
    raw.on("error", () => {});
    let rawClosed = false;
    raw.on("close", () => (rawClosed = true));
    raw.resume(); // read the CONNACK, or 'close' never comes
    await new Promise<void>((r) => raw.once("connect", () => r()));
    const id = Buffer.from("silent");
    const wt = Buffer.from("will/silent"), wm = Buffer.from("expired");
    const body = Buffer.concat([
      Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02 | 0x04, 0, 1]),
      Buffer.from([0, id.length]),
      id,
      Buffer.from([0, wt.length]),
      wt,
      Buffer.from([0, wm.length]),
      wm,
    ]);
    raw.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
    await until(() => rawClosed, "keepalive expiry", 8000);
    await until(() => got.length >= 2, "will of the expired client");
    await sleep(200);
    assert.deepEqual(got.map((m) => [m.topic, m.text]), [
      ["will/rude", "gone"],
      ["will/silent", "expired"],
    ]);
    await end(s);
  });
});

test("broker: a bad remaining length closes that client, the broker keeps serving", async () => {
  await withBroker(async (url, port) => {
    const raw = net.connect(port, "127.0.0.1");
    let closed = false;
    raw.on("error", () => {});
    raw.on("close", () => (closed = true));
    await new Promise<void>((r) => raw.once("connect", () => r()));
    raw.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f])); // 5 length bytes
    await until(() => closed, "the broker closes the socket");
    const a = await jsClient(url);
    const got = collect(a);
    await subscribe(a, "ok", 1);
    await publish(a, "ok", "still serving", { qos: 1 });
    await until(() => got.length === 1, "message");
    assert.equal(got[0].text, "still serving");
    await end(a);
  });
});

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15000 }, (err, stdout) => err ? reject(err) : resolve(stdout));
  });
}

test("broker vs mosquitto_pub / mosquitto_sub: QoS 1, wildcards and retained", async () => {
  await withBroker(async (_url, port) => {
    const p = String(port);
    await run("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      p,
      "-t",
      "m/ret",
      "-m",
      "R",
      "-r",
      "-q",
      "1",
    ]);
    // -C 2: the retained message, then a live one; -v prints the topic
    const sub = run("mosquitto_sub", [
      "-h",
      "127.0.0.1",
      "-p",
      p,
      "-t",
      "m/#",
      "-q",
      "1",
      "-C",
      "2",
      "-v",
    ]);
    await sleep(500); // let the subscription settle
    await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", p, "-t", "m/live", "-m", "L", "-q", "1"]);
    const out = await sub;
    assert.deepEqual(out.trim().split("\n"), ["m/ret R", "m/live L"]);
    const v5 = run("mosquitto_sub", [
      "-h",
      "127.0.0.1",
      "-p",
      p,
      "-V",
      "mqttv5",
      "-t",
      "v/+",
      "-C",
      "1",
      "-q",
      "1",
    ]);
    await sleep(500);
    await run("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      p,
      "-V",
      "mqttv5",
      "-t",
      "v/x",
      "-m",
      "five",
      "-q",
      "1",
    ]);
    assert.equal((await v5).trim(), "five");
  });
});

test("examples/mqtt_broker.ts and examples/mqtt_client.ts talk (Deno: the examples are TS)", {
  skip: (globalThis as { Deno?: unknown }).Deno === undefined ? "Deno only" : false,
}, async () => {
  const deno = path.resolve("node_modules/@deno/linux-x64-glibc/deno");
  const broker = spawn(deno, [
    "run",
    "--allow-net",
    "--no-prompt",
    "examples/mqtt_broker.ts",
    "--listen",
    "mqtt://127.0.0.1:0",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let exited: number | null | undefined = undefined;
  broker.on("exit", (code) => (exited = code));
  broker.stdout?.setEncoding("utf8");
  broker.stdout?.on("data", (s: string) => (out += s));
  broker.stderr?.resume();
  try {
    await until(() => /mqtt:\/\/127\.0\.0\.1:\d+/.test(out), "the broker's URL", 20000);
    const url = /mqtt:\/\/127\.0\.0\.1:\d+/.exec(out)![0];
    const res = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        deno,
        ["run", "--allow-net", "--no-prompt", "examples/mqtt_client.ts", "--url", url, "--v5"],
        { timeout: 20000 },
        (err, stdout) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout }),
      );
    });
    assert.equal(res.code, 0, res.stdout);
    assert.match(res.stdout, /got wasmgoose\/demo: hello from wasmgoose \(sender=mqtt_client\)/);
    await until(() => /logs in/.test(out), "the broker's log line");
  } finally {
    // process.kill: Deno's ChildProcess.kill reports the signal as the exit cause
    if (exited === undefined && broker.pid !== undefined) process.kill(broker.pid, "SIGTERM");
    await until(() => exited !== undefined, "broker exit");
  }
  assert.equal(exited, 0);
});
