// wasmgoose — MQTT internals shared by mqtt.c and mqtt_broker.c.
// SPDX-License-Identifier: MIT
#ifndef MQTT_PRIVATE_H
#define MQTT_PRIVATE_H
#include "mongoose.h"

#define MQTT_QOS2_MAX 32  // QoS 2 ids remembered until their PUBREL

struct mqtt_broker;
struct mqtt_client;

// Per-connection protocol state (c->pfn_data of an MQTT connection)
struct mqtt_state {
  struct mg_timer *timer;      // client keepalive timer
  uint64_t last_tx, last_rx;   // when we last sent / received a packet
  uint16_t keepalive;          // seconds, 0: none
  uint16_t qos2[MQTT_QOS2_MAX];  // QoS 2 publishes received, not released
  size_t nqos2;
  struct mqtt_broker *broker;  // accepted by a broker, or NULL
  struct mqtt_client *client;  // the broker's view of this client
};

void mqtt_ev(struct mg_connection *c, int ev, void *ev_data);
struct mqtt_state *mqtt_state(struct mg_connection *c);
size_t mqtt_varint_put(uint8_t *p, uint32_t v);
size_t mqtt_varint_len(uint32_t v);
int mqtt_varint_get(const uint8_t *p, size_t n, uint32_t *v);
size_t mqtt_props_size(const struct mg_mqtt_prop *props, size_t n);
void mqtt_send_varint(struct mg_connection *c, uint32_t v);
void mqtt_send_str(struct mg_connection *c, struct mg_str s);
void mqtt_send_props(struct mg_connection *c, const struct mg_mqtt_prop *props,
                     size_t n);
void mqtt_send_publish(struct mg_connection *c, struct mg_str topic,
                       struct mg_str data, uint8_t qos, bool retain, bool dup,
                       uint16_t id, struct mg_str raw_props);
// Broker hooks (mqtt_broker.c)
void mqtt_broker_closed(struct mg_connection *c, struct mqtt_state *st);
void mqtt_broker_free(struct mg_connection *lsn);
// false: the connection is being closed, stop processing
bool mqtt_broker_packet(struct mg_connection *c, struct mqtt_state *st,
                        struct mg_mqtt_message *m);
void mqtt_broker_publish(struct mg_connection *c, struct mqtt_state *st,
                         struct mg_mqtt_message *m);
#endif
