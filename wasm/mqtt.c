// MQTT exports of the WebAssembly module (see wasm/ABI.md, "MQTT exports").
// Options come as a block: a struct mg_mqtt_opts at offset 0 whose pointers
// (mg_str bufs, props, will_props and the props' key/val bufs) are offsets
// from the start of the block.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define EXPORT(name) __attribute__((export_name(name)))

struct mg_mgr *mgw_mgr(void);
void mgw_enter(void);
void mgw_leave(void);
mg_event_handler_t mgw_js_handler(int h, int mask);

static void fix_str(struct mg_str *s, char *base) {
  s->buf = s->len > 0 ? base + (uintptr_t) s->buf : NULL;
}

static void fix_props(struct mg_mqtt_prop **p, size_t n, char *base) {
  size_t i;
  if (n == 0) {
    *p = NULL;
    return;
  }
  *p = (struct mg_mqtt_prop *) (base + (uintptr_t) *p);
  for (i = 0; i < n; i++) {
    fix_str(&(*p)[i].key, base);
    fix_str(&(*p)[i].val, base);
  }
}

// Turns the offsets of the block at base into pointers
static struct mg_mqtt_opts *fix_opts(char *base) {
  struct mg_mqtt_opts *o = (struct mg_mqtt_opts *) base;
  fix_str(&o->user, base);
  fix_str(&o->pass, base);
  fix_str(&o->client_id, base);
  fix_str(&o->topic, base);
  fix_str(&o->message, base);
  fix_props(&o->props, o->num_props, base);
  fix_props(&o->will_props, o->num_will_props, base);
  return o;
}

EXPORT("mgw_mqtt_connect")
struct mg_connection *mgw_mqtt_connect(const char *url, int h, int mask,
                                       const char *blk, int blen) {
  char copy[512], *opts = NULL;
  struct mg_connection *c;
  size_t len = strlen(url);
  if (len >= sizeof(copy)) return NULL;
  memcpy(copy, url, len + 1);
  // The block is copied: handlers of MG_EV_OPEN may reuse the staging buffer
  if (blen > 0) {
    if ((opts = (char *) malloc((size_t) blen)) == NULL) return NULL;
    memcpy(opts, blk, (size_t) blen);
  }
  mgw_enter();
  c = mg_mqtt_connect(mgw_mgr(), copy, opts ? fix_opts(opts) : NULL,
                      mgw_js_handler(h, mask), (void *) (uintptr_t) h);
  mgw_leave();
  free(opts);
  return c;
}

EXPORT("mgw_mqtt_listen")
struct mg_connection *mgw_mqtt_listen(const char *url, int h, int mask,
                                      int broker) {
  char copy[512];
  struct mg_connection *c;
  size_t len = strlen(url);
  if (len >= sizeof(copy)) return NULL;
  memcpy(copy, url, len + 1);
  mgw_enter();
  c = (broker ? mg_mqtt_broker : mg_mqtt_listen)(
      mgw_mgr(), copy, mgw_js_handler(h, mask), (void *) (uintptr_t) h);
  mgw_leave();
  return c;
}

// what: 0 pub (returns the id), 1 sub, 2 unsub, 3 disconnect, 4 login
EXPORT("mgw_mqtt_op")
int mgw_mqtt_op(struct mg_connection *c, int what, char *blk) {
  struct mg_mqtt_opts *o = fix_opts(blk);
  int r = 0;
  mgw_enter();
  switch (what) {
    case 0: r = mg_mqtt_pub(c, o); break;
    case 1: mg_mqtt_sub(c, o); break;
    case 2: mg_mqtt_unsub(c, o); break;
    case 3: mg_mqtt_disconnect(c, o); break;
    case 4: mg_mqtt_login(c, o); break;
    default: r = -1; break;
  }
  mgw_leave();
  return r;
}

EXPORT("mgw_mqtt_send_header")
void mgw_mqtt_send_header(struct mg_connection *c, int cmd, int flags, int len) {
  mgw_enter();
  mg_mqtt_send_header(c, (uint8_t) cmd, (uint8_t) flags, (uint32_t) len);
  mgw_leave();
}

EXPORT("mgw_mqtt_ping") void mgw_mqtt_ping(struct mg_connection *c, int pong) {
  mgw_enter();
  if (pong) {
    mg_mqtt_pong(c);
  } else {
    mg_mqtt_ping(c);
  }
  mgw_leave();
}

// The layouts src/mqtt.ts reads and writes (wasm/ABI.md)
_Static_assert(offsetof(struct mg_mqtt_message, id) == 24, "mg_mqtt_message");
_Static_assert(offsetof(struct mg_mqtt_message, ack) == 28, "mg_mqtt_message");
_Static_assert(offsetof(struct mg_mqtt_message, props_start) == 32,
               "mg_mqtt_message");
_Static_assert(offsetof(struct mg_mqtt_message, props_size) == 36,
               "mg_mqtt_message");
_Static_assert(offsetof(struct mg_mqtt_opts, qos) == 40, "mg_mqtt_opts");
_Static_assert(offsetof(struct mg_mqtt_opts, keepalive) == 42, "mg_mqtt_opts");
_Static_assert(offsetof(struct mg_mqtt_opts, retransmit_id) == 44,
               "mg_mqtt_opts");
_Static_assert(offsetof(struct mg_mqtt_opts, clean) == 47, "mg_mqtt_opts");
_Static_assert(offsetof(struct mg_mqtt_opts, props) == 48, "mg_mqtt_opts");
_Static_assert(offsetof(struct mg_mqtt_opts, will_props) == 56, "mg_mqtt_opts");
_Static_assert(sizeof(struct mg_mqtt_opts) == 64, "mg_mqtt_opts");
_Static_assert(offsetof(struct mg_mqtt_prop, key) == 8, "mg_mqtt_prop");
_Static_assert(sizeof(struct mg_mqtt_prop) == 24, "mg_mqtt_prop");
