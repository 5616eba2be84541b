// MQTT client: logs in with a will, subscribes, publishes at QoS 1, prints
// what comes back, then disconnects cleanly.
//
//   deno run -A examples/mqtt_client.ts [--url URL] [--topic TOPIC] [--v5]
//   (default mqtt://127.0.0.1:1883 and wasmgoose/demo)
//
// Works against any broker: examples/mqtt_broker.ts, mosquitto, …

import process from "node:process";
import {
  Manager,
  MG_EV_CLOSE,
  MG_EV_ERROR,
  MG_EV_MQTT_MSG,
  MG_EV_MQTT_OPEN,
  MQTT_PROP,
  type MqttMessage,
} from "../mod.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const url = opt("--url", "mqtt://127.0.0.1:1883");
const topic = opt("--topic", "wasmgoose/demo");
const v5 = args.includes("--v5");

const mgr = new Manager();
mgr.mqttConnect(url, {
  keepalive: 30, // PINGREQ goes out by itself
  version: v5 ? 5 : 4,
  will: { topic: `${topic}/status`, message: "offline", qos: 1, retain: true },
}, (c, ev, data) => {
  if (ev === MG_EV_MQTT_OPEN) {
    const code = data as number;
    if (code !== 0) return console.log(`refused: CONNACK ${code}`);
    console.log(`connected to ${url}`);
    c.mqttSub(topic, { qos: 1 });
    c.mqttPub(topic, "hello from wasmgoose", {
      qos: 1,
      props: v5 ? [{ id: MQTT_PROP.USER_PROPERTY, name: "sender", value: "mqtt_client" }] : [],
    });
  } else if (ev === MG_EV_MQTT_MSG) {
    const msg = data as MqttMessage;
    const props = msg.properties().map((p) => `${p.name ?? p.id}=${p.value}`).join(" ");
    console.log(`got ${msg.topic}: ${msg.text}${props ? ` (${props})` : ""}`);
    c.mqttDisconnect(); // a clean disconnect: the will is not published
  } else if (ev === MG_EV_ERROR) {
    console.log(`error: ${data}`);
  } else if (ev === MG_EV_CLOSE) {
    mgr.close();
  }
});
await mgr.run();
