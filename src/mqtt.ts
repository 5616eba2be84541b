/**
 * MQTT 3.1.1 and 5: `MqttMessage` (a lazy view of `struct mg_mqtt_message`),
 * the client helpers behind `Manager.mqttConnect` and the `Connection.mqtt*`
 * methods (acknowledgement tracking, retransmission), and the ready broker
 * {@link mqttBroker}.
 *
 * @module
 */

import { type Abi, decoder, encoder } from "./abi.ts";
import { type Connection, connectionInternals } from "./connection.ts";
import { MG_EV_CLOSE, MG_EV_MQTT_CMD, MG_EV_MQTT_OPEN } from "./constants.ts";
import { type Manager, openConnection, type Timer } from "./manager.ts";
import type { EventHandler, ListenOptions } from "./types.ts";

// ---- constants (MQTT 3.1.1 2.2.1, MQTT 5 2.1.2 and 2.2.2.2) ---------------------

/**
 * MQTT packet type CONNECT.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_CONNECT) console.log("a client logs in");
 * ```
 */
export const MQTT_CMD_CONNECT = 1;
/**
 * MQTT packet type CONNACK.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_CONNACK) console.log("code", msg.ack);
 * ```
 */
export const MQTT_CMD_CONNACK = 2;
/**
 * MQTT packet type PUBLISH.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_PUBLISH) console.log(msg.topic);
 * ```
 */
export const MQTT_CMD_PUBLISH = 3;
/**
 * MQTT packet type PUBACK (QoS 1 acknowledgement).
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_PUBACK) console.log("delivered", msg.id);
 * ```
 */
export const MQTT_CMD_PUBACK = 4;
/**
 * MQTT packet type PUBREC (QoS 2, step 1).
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_PUBREC) console.log("received", msg.id);
 * ```
 */
export const MQTT_CMD_PUBREC = 5;
/**
 * MQTT packet type PUBREL (QoS 2, step 2).
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_PUBREL) console.log("released", msg.id);
 * ```
 */
export const MQTT_CMD_PUBREL = 6;
/**
 * MQTT packet type PUBCOMP (QoS 2, step 3).
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_PUBCOMP) console.log("complete", msg.id);
 * ```
 */
export const MQTT_CMD_PUBCOMP = 7;
/**
 * MQTT packet type SUBSCRIBE.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_SUBSCRIBE) console.log("subscribe", msg.id);
 * ```
 */
export const MQTT_CMD_SUBSCRIBE = 8;
/**
 * MQTT packet type SUBACK.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_SUBACK) console.log("granted QoS", msg.ack);
 * ```
 */
export const MQTT_CMD_SUBACK = 9;
/**
 * MQTT packet type UNSUBSCRIBE.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_UNSUBSCRIBE) console.log("unsubscribe");
 * ```
 */
export const MQTT_CMD_UNSUBSCRIBE = 10;
/**
 * MQTT packet type UNSUBACK.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_UNSUBACK) console.log("unsubscribed");
 * ```
 */
export const MQTT_CMD_UNSUBACK = 11;
/**
 * MQTT packet type PINGREQ.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_PINGREQ) console.log("ping");
 * ```
 */
export const MQTT_CMD_PINGREQ = 12;
/**
 * MQTT packet type PINGRESP.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_PINGRESP) console.log("pong");
 * ```
 */
export const MQTT_CMD_PINGRESP = 13;
/**
 * MQTT packet type DISCONNECT.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_DISCONNECT) console.log("bye");
 * ```
 */
export const MQTT_CMD_DISCONNECT = 14;
/**
 * MQTT 5 packet type AUTH.
 *
 * @example
 * ```ts
 * if (msg.cmd === MQTT_CMD_AUTH) console.log("auth exchange");
 * ```
 */
export const MQTT_CMD_AUTH = 15;

/**
 * MQTT 5 property identifiers (MQTT 5 2.2.2.2), by name.
 *
 * @example
 * ```ts
 * c.mqttPub("t", "x", { props: [{ id: MQTT_PROP.CONTENT_TYPE, value: "text/plain" }] });
 * ```
 */
export const MQTT_PROP: {
  readonly PAYLOAD_FORMAT_INDICATOR: 0x01;
  readonly MESSAGE_EXPIRY_INTERVAL: 0x02;
  readonly CONTENT_TYPE: 0x03;
  readonly RESPONSE_TOPIC: 0x08;
  readonly CORRELATION_DATA: 0x09;
  readonly SUBSCRIPTION_IDENTIFIER: 0x0b;
  readonly SESSION_EXPIRY_INTERVAL: 0x11;
  readonly ASSIGNED_CLIENT_IDENTIFIER: 0x12;
  readonly SERVER_KEEP_ALIVE: 0x13;
  readonly AUTHENTICATION_METHOD: 0x15;
  readonly AUTHENTICATION_DATA: 0x16;
  readonly REQUEST_PROBLEM_INFORMATION: 0x17;
  readonly WILL_DELAY_INTERVAL: 0x18;
  readonly REQUEST_RESPONSE_INFORMATION: 0x19;
  readonly RESPONSE_INFORMATION: 0x1a;
  readonly SERVER_REFERENCE: 0x1c;
  readonly REASON_STRING: 0x1f;
  readonly RECEIVE_MAXIMUM: 0x21;
  readonly TOPIC_ALIAS_MAXIMUM: 0x22;
  readonly TOPIC_ALIAS: 0x23;
  readonly MAXIMUM_QOS: 0x24;
  readonly RETAIN_AVAILABLE: 0x25;
  readonly USER_PROPERTY: 0x26;
  readonly MAXIMUM_PACKET_SIZE: 0x27;
  readonly WILDCARD_SUBSCRIPTION_AVAILABLE: 0x28;
  readonly SUBSCRIPTION_IDENTIFIER_AVAILABLE: 0x29;
  readonly SHARED_SUBSCRIPTION_AVAILABLE: 0x2a;
} = Object.freeze(
  {
    PAYLOAD_FORMAT_INDICATOR: 0x01,
    MESSAGE_EXPIRY_INTERVAL: 0x02,
    CONTENT_TYPE: 0x03,
    RESPONSE_TOPIC: 0x08,
    CORRELATION_DATA: 0x09,
    SUBSCRIPTION_IDENTIFIER: 0x0b,
    SESSION_EXPIRY_INTERVAL: 0x11,
    ASSIGNED_CLIENT_IDENTIFIER: 0x12,
    SERVER_KEEP_ALIVE: 0x13,
    AUTHENTICATION_METHOD: 0x15,
    AUTHENTICATION_DATA: 0x16,
    REQUEST_PROBLEM_INFORMATION: 0x17,
    WILL_DELAY_INTERVAL: 0x18,
    REQUEST_RESPONSE_INFORMATION: 0x19,
    RESPONSE_INFORMATION: 0x1a,
    SERVER_REFERENCE: 0x1c,
    REASON_STRING: 0x1f,
    RECEIVE_MAXIMUM: 0x21,
    TOPIC_ALIAS_MAXIMUM: 0x22,
    TOPIC_ALIAS: 0x23,
    MAXIMUM_QOS: 0x24,
    RETAIN_AVAILABLE: 0x25,
    USER_PROPERTY: 0x26,
    MAXIMUM_PACKET_SIZE: 0x27,
    WILDCARD_SUBSCRIPTION_AVAILABLE: 0x28,
    SUBSCRIPTION_IDENTIFIER_AVAILABLE: 0x29,
    SHARED_SUBSCRIPTION_AVAILABLE: 0x2a,
  } as const,
);

// Property data types (MQTT_PROP_TYPE_* in C)
const T_BYTE = 0, T_STRING = 1, T_PAIR = 2, T_BINARY = 3, T_VARINT = 4, T_INT = 5, T_SHORT = 6;

/** The data type of a property id, -1 if unknown. */
function propType(id: number): number {
  switch (id) {
    case 0x01:
    case 0x17:
    case 0x19:
    case 0x24:
    case 0x25:
    case 0x28:
    case 0x29:
    case 0x2a:
      return T_BYTE;
    case 0x02:
    case 0x11:
    case 0x18:
    case 0x27:
      return T_INT;
    case 0x03:
    case 0x08:
    case 0x12:
    case 0x15:
    case 0x1a:
    case 0x1c:
    case 0x1f:
      return T_STRING;
    case 0x09:
    case 0x16:
      return T_BINARY;
    case 0x0b:
      return T_VARINT;
    case 0x13:
    case 0x21:
    case 0x22:
    case 0x23:
      return T_SHORT;
    case 0x26:
      return T_PAIR;
    default:
      return -1;
  }
}

// ---- types -------------------------------------------------------------------------

/**
 * One MQTT 5 property: `value` is a number for integer properties, a string
 * for string ones (and the value of a user property, whose name is `name`),
 * bytes for binary ones (correlation data, authentication data).
 *
 * @example
 * ```ts
 * const props: MqttProperty[] = [
 *   { id: MQTT_PROP.USER_PROPERTY, name: "origin", value: "sensor-1" },
 *   { id: MQTT_PROP.MESSAGE_EXPIRY_INTERVAL, value: 60 },
 * ];
 * ```
 */
export interface MqttProperty {
  /** The property identifier (see {@link MQTT_PROP}). */
  id: number;
  /** The value. */
  value: number | string | Uint8Array;
  /** User properties (`MQTT_PROP.USER_PROPERTY`): the name. */
  name?: string;
}

/**
 * The will of an MQTT client: published by the broker if the client
 * disconnects without a DISCONNECT.
 *
 * @example
 * ```ts
 * const will: MqttWill = { topic: "status/dev1", message: "offline", qos: 1, retain: true };
 * ```
 */
export interface MqttWill {
  /** Will topic. */
  topic: string;
  /** Will message. */
  message: string | Uint8Array;
  /** Will QoS (0, 1, 2), default 0. */
  qos?: number;
  /** Retain the will, default false. */
  retain?: boolean;
  /** MQTT 5 will properties. */
  props?: MqttProperty[];
}

/**
 * Options of {@link Manager.mqttConnect}.
 *
 * @example
 * ```ts
 * const opts: MqttConnectOptions = { clientId: "dev1", keepalive: 30, version: 5 };
 * ```
 */
export interface MqttConnectOptions extends ListenOptions {
  /** Client identifier (default: a random one, with a clean session). */
  clientId?: string;
  /** User name. */
  user?: string;
  /** Password. */
  pass?: string;
  /** Keepalive in seconds (default 60; 0 disables): PINGREQ is automatic. */
  keepalive?: number;
  /** Clean session (default true). */
  clean?: boolean;
  /** Protocol version: 4 (MQTT 3.1.1, default) or 5. */
  version?: 4 | 5;
  /** The will. */
  will?: MqttWill;
  /** MQTT 5 CONNECT properties. */
  props?: MqttProperty[];
  /**
   * Resend QoS 1/2 publishes not acknowledged after this many milliseconds
   * (DUP flag, same id). Default 10000 for MQTT 3.1.1, 0 (off) for MQTT 5,
   * which allows resending only on reconnect (see `resend`).
   */
  retransmitMs?: number;
  /**
   * A previous connection of this client: its unacknowledged QoS 1/2
   * publishes are resent (DUP flag, same ids) once this one is accepted.
   */
  resend?: Connection;
}

/**
 * Options of {@link Connection.mqttPub}.
 *
 * @example
 * ```ts
 * c.mqttPub("a/b", "hello", { qos: 1, retain: true });
 * ```
 */
export interface MqttPubOptions {
  /** QoS 0 (default), 1 or 2. */
  qos?: number;
  /** Retain flag. */
  retain?: boolean;
  /** MQTT 5 PUBLISH properties. */
  props?: MqttProperty[];
}

/**
 * Options of {@link Connection.mqttSub} and {@link Connection.mqttUnsub}.
 *
 * @example
 * ```ts
 * c.mqttSub("sensors/#", { qos: 1 });
 * ```
 */
export interface MqttSubOptions {
  /** Maximum QoS requested (0 default, 1, 2). */
  qos?: number;
  /** MQTT 5 properties. */
  props?: MqttProperty[];
}

/**
 * Options of {@link mqttBroker}.
 *
 * @example
 * ```ts
 * mqttBroker(mgr, "mqtt://0.0.0.0:1883", { handler: (c, ev) => {}, events: [MG_EV_MQTT_MSG] });
 * ```
 */
export interface MqttBrokerOptions {
  /** Sees the events of the broker's connections (default: none). */
  handler?: EventHandler;
  /** Events for `handler` (default none: the broker runs entirely in C). */
  events?: number[];
}

// ---- MqttMessage ------------------------------------------------------------------

// struct mg_mqtt_message offsets (wasm32, see wasm/ABI.md)
const OFF_TOPIC = 0, OFF_DATA = 8, OFF_DGRAM = 16, OFF_ID = 24, OFF_CMD = 26;
const OFF_QOS = 27, OFF_ACK = 28, OFF_PSTART = 32, OFF_PSIZE = 36;

let createMessage: (abi: Abi, ptr: number) => MqttMessage;
let invalidateMessage: (msg: MqttMessage) => void;

/**
 * An MQTT packet (`MG_EV_MQTT_CMD`, every packet) or a PUBLISH
 * (`MG_EV_MQTT_MSG`). A lazy view of the C `struct mg_mqtt_message`, **valid
 * only during the event callback**: copy what you need (`msg.text`,
 * `msg.data.slice()`).
 *
 * @example
 * ```ts
 * mgr.mqttConnect("mqtt://127.0.0.1:1883", {}, (c, ev, data) => {
 *   if (ev === MG_EV_MQTT_OPEN) c.mqttSub("news/#");
 *   if (ev === MG_EV_MQTT_MSG) {
 *     const msg = data as MqttMessage;
 *     console.log(msg.topic, msg.text);
 *   }
 * });
 * ```
 */
export class MqttMessage {
  #abi: Abi;
  #p: number;

  private constructor(abi: Abi, ptr: number) {
    this.#abi = abi;
    this.#p = ptr;
  }

  static {
    createMessage = (abi, ptr) => new MqttMessage(abi, ptr);
    invalidateMessage = (msg) => {
      msg.#p = 0;
    };
  }

  #ptr(): number {
    if (this.#p === 0) {
      throw new Error(
        "MqttMessage used after its event callback returned (copy what you need during the callback)",
      );
    }
    return this.#p;
  }

  /**
   * The PUBLISH topic ("" for other packets).
   *
   * @example
   * ```ts
   * if (msg.topic.startsWith("alerts/")) console.log(msg.text);
   * ```
   */
  get topic(): string {
    return this.#abi.strText(this.#ptr() + OFF_TOPIC);
  }

  /**
   * The PUBLISH payload (for SUBSCRIBE, SUBACK, CONNECT…: the rest of the
   * packet): a view into WASM memory, valid during the callback.
   *
   * @example
   * ```ts
   * const saved = msg.data.slice();
   * ```
   */
  get data(): Uint8Array {
    return this.#abi.strBytes(this.#ptr() + OFF_DATA);
  }

  /**
   * The payload decoded as UTF-8.
   *
   * @example
   * ```ts
   * const obj = JSON.parse(msg.text);
   * ```
   */
  get text(): string {
    return this.#abi.strText(this.#ptr() + OFF_DATA);
  }

  /**
   * The whole packet, fixed header included (a view, valid during the
   * callback).
   *
   * @example
   * ```ts
   * console.log(msg.dgram.length, "bytes");
   * ```
   */
  get dgram(): Uint8Array {
    return this.#abi.strBytes(this.#ptr() + OFF_DGRAM);
  }

  /**
   * The packet identifier (0 if the packet has none, e.g. QoS 0 PUBLISH).
   *
   * @example
   * ```ts
   * if (msg.cmd === MQTT_CMD_PUBACK) console.log("acked", msg.id);
   * ```
   */
  get id(): number {
    const p = this.#ptr();
    this.#abi.mem();
    return this.#abi.dv.getUint16(p + OFF_ID, true);
  }

  /**
   * The packet type (`MQTT_CMD_*`).
   *
   * @example
   * ```ts
   * if (msg.cmd === MQTT_CMD_SUBACK) console.log("subscribed");
   * ```
   */
  get cmd(): number {
    const p = this.#ptr();
    return this.#abi.mem()[p + OFF_CMD];
  }

  /**
   * The PUBLISH QoS.
   *
   * @example
   * ```ts
   * if (msg.qos > 0) console.log("acknowledged automatically");
   * ```
   */
  get qos(): number {
    const p = this.#ptr();
    return this.#abi.mem()[p + OFF_QOS];
  }

  /**
   * The CONNACK return code, the MQTT 5 reason code of acknowledgements and
   * DISCONNECT, the first code of a SUBACK.
   *
   * @example
   * ```ts
   * if (msg.cmd === MQTT_CMD_SUBACK && msg.ack === 0x80) console.log("refused");
   * ```
   */
  get ack(): number {
    const p = this.#ptr();
    return this.#abi.mem()[p + OFF_ACK];
  }

  /**
   * The PUBLISH retain flag.
   *
   * @example
   * ```ts
   * if (msg.retain) console.log("a retained message");
   * ```
   */
  get retain(): boolean {
    const d = this.dgram;
    return d.length > 0 && (d[0] & 1) !== 0;
  }

  /**
   * The PUBLISH DUP flag (a retransmission).
   *
   * @example
   * ```ts
   * if (msg.dup) console.log("seen before, maybe");
   * ```
   */
  get dup(): boolean {
    const d = this.dgram;
    return d.length > 0 && (d[0] & 8) !== 0;
  }

  /**
   * The MQTT 5 properties of the packet (empty for MQTT 3.1.1).
   *
   * @example
   * ```ts
   * for (const p of msg.properties()) {
   *   if (p.id === MQTT_PROP.USER_PROPERTY) console.log(p.name, "=", p.value);
   * }
   * ```
   */
  properties(): MqttProperty[] {
    const p = this.#ptr();
    const abi = this.#abi;
    abi.mem();
    const start = abi.dv.getUint32(p + OFF_PSTART, true);
    const size = abi.dv.getUint32(p + OFF_PSIZE, true);
    if (size === 0) return [];
    const d = this.dgram;
    return parseProps(d.subarray(start, start + size));
  }
}

/** Decodes a property block (without its length); stops at a bad property. */
export function parseProps(b: Uint8Array): MqttProperty[] {
  const out: MqttProperty[] = [];
  let i = 0;
  const u16 = (k: number) => (b[k] << 8) | b[k + 1];
  while (i < b.length) {
    const id = b[i++];
    const t = propType(id);
    if (t === T_BYTE && i + 1 <= b.length) {
      out.push({ id, value: b[i] });
      i += 1;
    } else if (t === T_SHORT && i + 2 <= b.length) {
      out.push({ id, value: u16(i) });
      i += 2;
    } else if (t === T_INT && i + 4 <= b.length) {
      out.push({ id, value: ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3] });
      i += 4;
    } else if (t === T_VARINT) {
      let v = 0, mul = 1, k = 0;
      for (; k < 4 && i + k < b.length; k++) {
        v += (b[i + k] & 127) * mul;
        mul *= 128;
        if ((b[i + k] & 128) === 0) break;
      }
      if (k === 4 || i + k >= b.length) break;
      out.push({ id, value: v });
      i += k + 1;
    } else if ((t === T_STRING || t === T_BINARY) && i + 2 <= b.length) {
      const n = u16(i);
      if (i + 2 + n > b.length) break;
      const v = b.subarray(i + 2, i + 2 + n);
      out.push({ id, value: t === T_STRING ? decoder.decode(v) : v.slice() });
      i += 2 + n;
    } else if (t === T_PAIR && i + 2 <= b.length) {
      const n1 = u16(i);
      if (i + 4 + n1 > b.length) break;
      const n2 = u16(i + 2 + n1);
      if (i + 4 + n1 + n2 > b.length) break;
      out.push({
        id,
        name: decoder.decode(b.subarray(i + 2, i + 2 + n1)),
        value: decoder.decode(b.subarray(i + 4 + n1, i + 4 + n1 + n2)),
      });
      i += 4 + n1 + n2;
    } else {
      break;
    }
  }
  return out;
}

/** Internal: a view of the `struct mg_mqtt_message` at `ptr`. */
export function newMqttMessage(abi: Abi, ptr: number): MqttMessage {
  return createMessage(abi, ptr);
}

/** Internal: ends the view (when its callback returns). */
export function endMqttMessage(msg: MqttMessage): void {
  invalidateMessage(msg);
}

// ---- the options block (see wasm/mqtt.c) -------------------------------------------
// struct mg_mqtt_opts (wasm32): user @0, pass @8, client_id @16, topic @24,
// message @32 (mg_str each), qos @40, version @41, keepalive @42 (u16),
// retransmit_id @44 (u16), retain @46, clean @47, props @48, num_props @52,
// will_props @56, num_will_props @60; 64 bytes. struct mg_mqtt_prop: id @0,
// iv @4, key @8, val @16; 24 bytes. Pointers are offsets from the block.
const OPTS_SIZE = 64;
const PROP_SIZE = 24;

interface OptsIn {
  user?: string;
  pass?: string;
  clientId?: string;
  topic?: string;
  message?: string | Uint8Array;
  qos?: number;
  version?: number;
  keepalive?: number;
  retransmitId?: number;
  retain?: boolean;
  clean?: boolean;
  props?: MqttProperty[];
  willProps?: MqttProperty[];
}

function strCap(v: string | Uint8Array | undefined): number {
  return v === undefined ? 0 : typeof v === "string" ? v.length * 3 : v.length;
}

function propsCap(props: MqttProperty[] | undefined): number {
  let n = 0;
  if (props === undefined) return 0;
  for (const p of props) {
    n += PROP_SIZE + strCap(p.name) + (typeof p.value === "number" ? 0 : strCap(p.value));
  }
  return n;
}

function checkQos(qos: number | undefined): number {
  const q = qos ?? 0;
  if (q !== 0 && q !== 1 && q !== 2) throw new RangeError(`invalid MQTT QoS ${qos}`);
  return q;
}

/** Writes the options block at the staging buffer; returns [ptr, len]. */
function putOpts(abi: Abi, o: OptsIn): [number, number] {
  const cap = OPTS_SIZE + strCap(o.user) + strCap(o.pass) + strCap(o.clientId) +
    strCap(o.topic) + strCap(o.message) + propsCap(o.props) + propsCap(o.willProps) + 8;
  const base = abi.stage(cap);
  const u8 = abi.u8, dv = abi.dv;
  u8.fill(0, base, base + OPTS_SIZE);
  let pos = OPTS_SIZE;
  const str = (at: number, v: string | Uint8Array | undefined): void => {
    let n = 0;
    if (v === undefined) n = 0;
    else if (typeof v === "string") {
      n = v.length === 0 ? 0 : encoder.encodeInto(v, u8.subarray(base + pos, base + cap)).written;
    } else {
      u8.set(v, base + pos);
      n = v.length;
    }
    if (n > 0xffff) throw new RangeError(`MQTT string of ${n} bytes (at most 65535)`);
    dv.setUint32(base + at, n === 0 ? 0 : pos, true);
    dv.setUint32(base + at + 4, n, true);
    pos += n;
  };
  const props = (at: number, list: MqttProperty[] | undefined): void => {
    if (list === undefined || list.length === 0) return;
    pos = (pos + 3) & ~3;
    const arr = pos;
    pos += list.length * PROP_SIZE;
    u8.fill(0, base + arr, base + pos);
    dv.setUint32(base + at, arr, true);
    dv.setUint32(base + at + 4, list.length, true);
    for (let i = 0; i < list.length; i++) {
      const p = list[i], e = arr + i * PROP_SIZE, t = propType(p.id);
      if (t < 0) throw new RangeError(`unknown MQTT property id ${p.id}`);
      u8[base + e] = p.id;
      if (t === T_PAIR) {
        if (typeof p.name !== "string" || typeof p.value !== "string") {
          throw new TypeError("an MQTT user property needs a string name and value");
        }
        str(e + 8, p.name);
        str(e + 16, p.value);
      } else if (t === T_STRING || t === T_BINARY) {
        if (typeof p.value === "number") {
          throw new TypeError(`MQTT property ${p.id} needs a string or bytes value`);
        }
        str(e + 16, p.value);
      } else {
        if (typeof p.value !== "number") {
          throw new TypeError(`MQTT property ${p.id} needs a number value`);
        }
        dv.setUint32(base + e + 4, p.value >>> 0, true);
      }
    }
  };
  str(0, o.user);
  str(8, o.pass);
  str(16, o.clientId);
  str(24, o.topic);
  str(32, o.message);
  u8[base + 40] = o.qos ?? 0;
  u8[base + 41] = o.version ?? 4;
  dv.setUint16(base + 42, o.keepalive ?? 0, true);
  dv.setUint16(base + 44, o.retransmitId ?? 0, true);
  u8[base + 46] = o.retain ? 1 : 0;
  u8[base + 47] = o.clean ? 1 : 0;
  props(48, o.props);
  props(56, o.willProps);
  return [base, pos];
}

// ---- the client: acknowledgement tracking and retransmission ----------------------

interface Inflight {
  id: number;
  topic: string;
  message: string | Uint8Array;
  qos: number;
  retain: boolean;
  props: MqttProperty[] | undefined;
  sent: number;
  /** PUBREC received: PUBREL sent, waiting for PUBCOMP. */
  rel: boolean;
}

interface ClientState {
  mgr: Manager;
  inflight: Map<number, Inflight>;
  retransmitMs: number;
  timer: Timer | undefined;
  resend: Connection | undefined;
}

const clients = new WeakMap<Connection, ClientState>();

const MQTT_EVENTS = [MG_EV_MQTT_CMD, MG_EV_MQTT_OPEN, MG_EV_CLOSE];
const noop = (): void => {};

function resendOne(conn: Connection, e: Inflight): void {
  e.sent = performance.now();
  if (e.rel) {
    sendRel(conn, e.id);
  } else {
    op(conn, 0, {
      topic: e.topic,
      message: e.message,
      qos: e.qos,
      retain: e.retain,
      props: e.props,
      retransmitId: e.id,
    });
  }
}

function sendRel(conn: Connection, id: number): void {
  mqttSendHeader(conn, MQTT_CMD_PUBREL, 2, 2);
  conn.send(new Uint8Array([id >> 8, id & 255]));
}

function clientEvent(conn: Connection, st: ClientState, ev: number, data: unknown): void {
  if (ev === MG_EV_MQTT_CMD) {
    const m = data as MqttMessage;
    const cmd = m.cmd;
    if (cmd === MQTT_CMD_PUBACK || cmd === MQTT_CMD_PUBCOMP) {
      st.inflight.delete(m.id);
    } else if (cmd === MQTT_CMD_PUBREC) {
      const e = st.inflight.get(m.id);
      if (e !== undefined) {
        e.rel = true;
        e.sent = performance.now();
      }
    }
  } else if (ev === MG_EV_MQTT_OPEN) {
    if ((data as number) !== 0) return;
    // A CONNACK may have changed the C keepalive timer (MQTT 5 Server Keep
    // Alive): a zero-delay timer makes the Manager re-read the next deadline.
    st.mgr.timerAdd(0, noop);
    const old = st.resend === undefined ? undefined : clients.get(st.resend);
    st.resend = undefined;
    if (old !== undefined && old !== st) {
      for (const e of old.inflight.values()) {
        st.inflight.set(e.id, e);
        resendOne(conn, e);
      }
      old.inflight.clear();
    }
    if (st.retransmitMs > 0 && st.timer === undefined) {
      const period = Math.max(100, Math.floor(st.retransmitMs / 2));
      st.timer = st.mgr.timerAdd(period, () => {
        if (!conn.isAlive) return;
        const now = performance.now();
        for (const e of st.inflight.values()) {
          if (now - e.sent >= st.retransmitMs) resendOne(conn, e);
        }
      }, { repeat: true });
    }
  } else if (ev === MG_EV_CLOSE) {
    st.timer?.cancel();
    st.timer = undefined;
  }
}

/** Internal (`Manager.mqttConnect`). */
export function mqttConnect(
  mgr: Manager,
  url: string,
  opts: MqttConnectOptions | undefined,
  handler: EventHandler | undefined,
): Connection {
  if (!/^mqtts?:\/\//i.test(url)) throw new TypeError(`not an mqtt:// or mqtts:// URL: ${url}`);
  const o = opts ?? {};
  const version = o.version ?? 4;
  if (version !== 4 && version !== 5) throw new RangeError(`invalid MQTT version ${o.version}`);
  const keepalive = o.keepalive ?? 60;
  if (!Number.isInteger(keepalive) || keepalive < 0 || keepalive > 65535) {
    throw new RangeError(`invalid MQTT keepalive ${o.keepalive}`);
  }
  const will = o.will;
  const st: ClientState = {
    mgr,
    inflight: new Map(),
    // MQTT 5 4.4 forbids resending except on reconnect
    retransmitMs: o.retransmitMs ?? (version === 5 ? 0 : 10000),
    timer: undefined,
    resend: o.resend,
  };
  // The user's events, and the ones the client bookkeeping needs
  const user = o.events === undefined ? undefined : new Set(o.events);
  const events = user === undefined ? undefined : [...user, ...MQTT_EVENTS];
  const fn = handler;
  const wrapped: EventHandler = (c, ev, data) => {
    if (ev === MG_EV_MQTT_CMD || ev === MG_EV_MQTT_OPEN || ev === MG_EV_CLOSE) {
      clientEvent(c, st, ev, data);
    }
    if (fn !== undefined && (user === undefined || user.has(ev))) fn(c, ev, data);
  };
  const conn = openConnection(mgr, url, wrapped, { events }, false, (abi, h, mask) => {
    const [, blen] = putOpts(abi, {
      user: o.user,
      pass: o.pass,
      clientId: o.clientId,
      topic: will?.topic,
      message: will?.message,
      qos: will === undefined ? 0 : checkQos(will.qos),
      version,
      keepalive,
      retain: will?.retain === true,
      clean: o.clean ?? true,
      props: o.props,
      willProps: will?.props,
    });
    // the URL goes after the block, NUL-terminated
    const uptr = abi.stage(blen + url.length * 3 + 1) + blen;
    const { written } = encoder.encodeInto(url, abi.u8.subarray(uptr, uptr + url.length * 3));
    abi.u8[uptr + written] = 0;
    return abi.x.mgw_mqtt_connect(uptr, h, mask, abi.stagePtr, blen);
  });
  clients.set(conn, st);
  return conn;
}

/** Internal (`Manager.mqttListen`, {@link mqttBroker}). */
export function mqttListen(
  mgr: Manager,
  url: string,
  handler: EventHandler | undefined,
  opts: ListenOptions | undefined,
  broker: boolean,
): Connection {
  if (!/^mqtts?:\/\//i.test(url)) throw new TypeError(`not an mqtt:// or mqtts:// URL: ${url}`);
  return openConnection(mgr, url, handler, opts, true, (abi, h, mask) => {
    return abi.x.mgw_mqtt_listen(abi.putCString(url), h, mask, broker ? 1 : 0);
  });
}

/**
 * Starts a ready MQTT broker (3.1.1 and 5) on `url` and returns its
 * listening connection (close it to stop the broker). The broker runs in the
 * C core: subscriptions with `+` and `#` (`$` topics are not matched by a
 * leading wildcard), retained messages (an empty retained payload deletes),
 * QoS 0 and 1 delivery (QoS 2 publishes are accepted with the full
 * handshake and delivered at QoS 1), wills, keepalive expiry (1.5 ×
 * keepalive), clean and persistent sessions (subscriptions are kept; the
 * session-present flag is set). Malformed packets close that client only.
 *
 * @example
 * ```ts
 * import { Manager, mqttBroker } from "@wasmgoose/wasmgoose";
 *
 * const mgr = new Manager();
 * const lsn = mqttBroker(mgr, "mqtt://0.0.0.0:1883");
 * console.log("MQTT broker on", lsn.localAddr);
 * await mgr.run();
 * ```
 */
export function mqttBroker(mgr: Manager, url: string, opts?: MqttBrokerOptions): Connection {
  return mqttListen(mgr, url, opts?.handler, { events: opts?.events ?? [] }, true);
}

// ---- Connection methods ------------------------------------------------------------

function op(conn: Connection, what: number, o: OptsIn): number {
  const { c, host } = connectionInternals(conn);
  if (c === 0) return 0;
  const abi = host.abi;
  try {
    const [blk] = putOpts(abi, o);
    return abi.x.mgw_mqtt_op(c, what, blk);
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw e;
    throw host.fail(e);
  }
}

/** Internal (`Connection.mqttPub`). */
export function mqttPub(
  conn: Connection,
  topic: string,
  message: string | Uint8Array,
  opts?: MqttPubOptions,
): number {
  const qos = checkQos(opts?.qos);
  const retain = opts?.retain === true;
  const props = opts?.props;
  const id = op(conn, 0, { topic, message, qos, retain, props });
  if (qos > 0 && id > 0) {
    const st = clients.get(conn);
    if (st !== undefined) {
      st.inflight.set(id, {
        id,
        topic,
        message: typeof message === "string" ? message : message.slice(),
        qos,
        retain,
        props,
        sent: performance.now(),
        rel: false,
      });
    }
  }
  return id;
}

/** Internal (`Connection.mqttSub`). */
export function mqttSub(conn: Connection, topic: string, opts?: MqttSubOptions): void {
  op(conn, 1, { topic, qos: checkQos(opts?.qos), props: opts?.props });
}

/** Internal (`Connection.mqttUnsub`). */
export function mqttUnsub(conn: Connection, topic: string, opts?: MqttSubOptions): void {
  op(conn, 2, { topic, props: opts?.props });
}

/** Internal (`Connection.mqttDisconnect`). */
export function mqttDisconnect(conn: Connection, props?: MqttProperty[]): void {
  op(conn, 3, { props });
}

/** Internal (`Connection.mqttPing`, `Connection.mqttPong`). */
export function mqttPing(conn: Connection, pong: boolean): void {
  const { c, host } = connectionInternals(conn);
  if (c === 0) return;
  try {
    host.abi.x.mgw_mqtt_ping(c, pong ? 1 : 0);
  } catch (e) {
    throw host.fail(e);
  }
}

/** Internal (`Connection.mqttSendHeader`). */
export function mqttSendHeader(conn: Connection, cmd: number, flags: number, len: number): void {
  const { c, host } = connectionInternals(conn);
  if (c === 0) return;
  try {
    host.abi.x.mgw_mqtt_send_header(c, cmd, flags, len);
  } catch (e) {
    throw host.fail(e);
  }
}
