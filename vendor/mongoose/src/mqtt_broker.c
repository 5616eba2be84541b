// wasmgoose — a ready MQTT 3.1.1 / 5 broker on top of the protocol handler:
// subscriptions with + and # (MQTT 4.7), retained messages, QoS 0 and 1
// delivery, wills, keepalive expiry, clean and persistent sessions.
// Written from the OASIS MQTT 3.1.1 and MQTT 5.0 specifications.
// SPDX-License-Identifier: MIT
#include "mqtt_private.h"

#define MQTT_BROKER_MAX_QUEUED (8UL * 1024UL * 1024UL)  // per subscriber
#define MQTT_CONNECT_TIMEOUT_MS 30000  // time a client has to send CONNECT
#ifndef MG_MQTT_BROKER_MAX_OFFLINE
#define MG_MQTT_BROKER_MAX_OFFLINE 1000  // messages queued per offline session
#endif

struct msub {  // one subscription
  struct msub *next;
  struct mqtt_client *cl;  // NULL in a stored session
  struct mg_str filter;    // owned
  uint8_t qos;             // granted QoS (0 or 1)
};

struct mret {  // a retained message, one queued for an offline client, or
  struct mret *next;                 // one sent at QoS 1 and not acknowledged
  struct mg_str topic, data, props;  // owned
  uint8_t qos;
  bool dup;     // sent before: resend with the DUP flag and this id
  uint16_t id;
};

struct msession {  // a persistent session of a disconnected client
  struct msession *next;
  struct mg_str id;  // owned
  struct msub *subs;
  struct mret *queue, **tail;  // unacknowledged, then new QoS 1 messages
  size_t nqueued;
  uint16_t next_id;  // the client's packet ids go on
};

struct mqtt_client {
  struct mqtt_client *next;
  struct mg_connection *c;
  struct mg_str id;                            // owned
  struct mg_str will_topic, will_msg, will_props;  // owned
  uint8_t will_qos;
  bool has_will, will_retain;
  bool connected, persist, keep_will, taken, bye;
  uint16_t keepalive, next_id;
  struct mret *inflight, **itail;  // persistent sessions: QoS 1 not acked
  size_t ninflight;
  unsigned gen, sent;  // delivery marks (route())
  uint8_t dqos;        // QoS of the delivery being routed
};

struct mqtt_broker {
  struct mqtt_client *clients;
  struct msub *subs;
  struct msession *sessions;
  struct mret *ret;
  size_t nret;
  struct mg_timer *timer;
  struct mg_mgr *mgr;
  unsigned gen;
};

static struct mg_str dup_str(struct mg_str s) {
  struct mg_str r = {NULL, 0};
  if (s.len == 0) return r;
  if ((r.buf = (char *) malloc(s.len)) == NULL) return r;
  memcpy(r.buf, s.buf, s.len);
  r.len = s.len;
  return r;
}

static bool str_eq(struct mg_str a, struct mg_str b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.buf, b.buf, a.len) == 0);
}

// ---- Topics ---------------------------------------------------------------------------
bool mg_mqtt_match(struct mg_str t, struct mg_str f) {
  size_t i = 0, j = 0;
  if (t.len > 0 && t.buf[0] == '$' && f.len > 0 &&
      (f.buf[0] == '+' || f.buf[0] == '#')) {
    return false;  // 4.7.2: $-topics are not matched by a leading wildcard
  }
  if (f.len == 0) return false;
  for (;;) {
    if (f.buf[j] == '#') return true;  // the rest, and the parent level
    if (f.buf[j] == '+') {
      while (i < t.len && t.buf[i] != '/') i++;
      j++;
    } else {
      while (j < f.len && f.buf[j] != '/') {
        if (i >= t.len || t.buf[i] != f.buf[j]) return false;
        i++, j++;
      }
    }
    if (j == f.len) return i == t.len;
    if (i == t.len) return f.len - j == 2 && f.buf[j + 1] == '#';
    if (t.buf[i] != '/') return false;
    i++, j++;
    if (j == f.len) return i == t.len;  // "a/" matches only "a/"
  }
}

// 4.7.1: # only as a whole last level, + only as a whole level
static bool filter_ok(struct mg_str f) {
  size_t i;
  if (f.len == 0) return false;
  for (i = 0; i < f.len; i++) {
    char ch = f.buf[i];
    if (ch == '\0') return false;
    if (ch == '#' && (i + 1 != f.len || (i > 0 && f.buf[i - 1] != '/'))) {
      return false;
    }
    if (ch == '+' && ((i > 0 && f.buf[i - 1] != '/') ||
                      (i + 1 < f.len && f.buf[i + 1] != '/'))) {
      return false;
    }
  }
  return true;
}

static bool topic_ok(struct mg_str t) {
  size_t i;
  if (t.len == 0) return false;
  for (i = 0; i < t.len; i++) {
    if (t.buf[i] == '+' || t.buf[i] == '#' || t.buf[i] == '\0') return false;
  }
  return true;
}

// ---- Delivery -------------------------------------------------------------------------
static void free_mrets(struct mret *r) {
  while (r != NULL) {
    struct mret *next = r->next;
    free(r->topic.buf);
    free(r->data.buf);
    free(r->props.buf);
    free(r);
    r = next;
  }
}

static struct mret *new_mret(struct mg_str topic, struct mg_str data,
                             struct mg_str props, uint8_t qos) {
  struct mret *r = (struct mret *) calloc(1, sizeof(*r));
  if (r == NULL) return NULL;
  r->topic = dup_str(topic);
  r->data = dup_str(data);
  r->props = dup_str(props);
  r->qos = qos;
  if (r->topic.buf == NULL || (data.len > 0 && r->data.buf == NULL) ||
      (props.len > 0 && r->props.buf == NULL)) {
    free_mrets(r);
    return NULL;
  }
  return r;
}

// 4.4: a persistent session remembers what it sent at QoS 1 until PUBACK
static void track(struct mqtt_client *cl, struct mret *r) {
  if (r == NULL) return;
  r->next = NULL;
  if (!cl->persist || cl->ninflight >= MG_MQTT_BROKER_MAX_OFFLINE) {
    free_mrets(r);
    return;
  }
  r->dup = true;
  if (cl->itail == NULL) cl->itail = &cl->inflight;
  *cl->itail = r;
  cl->itail = &r->next;
  cl->ninflight++;
}

static void acked(struct mqtt_client *cl, uint16_t id) {
  struct mret **p = &cl->inflight, *r;
  for (; (r = *p) != NULL; p = &r->next) {
    if (r->id == id) {
      *p = r->next;
      if (cl->itail == &r->next) cl->itail = p;
      r->next = NULL;
      free_mrets(r);
      cl->ninflight--;
      return;
    }
  }
}

static void send_to(struct mqtt_client *cl, struct mg_str topic,
                    struct mg_str data, uint8_t qos, bool retain,
                    struct mg_str props) {
  uint16_t id = 0;
  struct mg_connection *c = cl->c;
  if (c->is_closing || c->is_draining) return;
  if (c->send.len > MQTT_BROKER_MAX_QUEUED) {  // a subscriber that does not read
    MG_DEBUG(("%lu MQTT subscriber too slow, message dropped", c->id));
    return;
  }
  if (qos > 0) {
    if (++cl->next_id == 0) cl->next_id = 1;
    id = cl->next_id;
  }
  mqtt_send_publish(c, topic, data, qos, retain, false, id, props);
  if (qos > 0 && cl->persist) {
    struct mret *r = new_mret(topic, data, props, qos);
    if (r != NULL) r->id = id;
    track(cl, r);
  }
}

// 3.1.2.4: QoS 1 messages for the subscriptions of a persistent session
// whose client is away are kept (up to MG_MQTT_BROKER_MAX_OFFLINE each)
static void queue_offline(struct mqtt_broker *b, struct mg_str topic,
                          struct mg_str data, struct mg_str props) {
  struct msession *se;
  for (se = b->sessions; se != NULL; se = se->next) {
    struct msub *s;
    struct mret *r;
    uint8_t q = 0;
    for (s = se->subs; s != NULL; s = s->next) {
      if (s->qos > q && mg_mqtt_match(topic, s->filter)) q = s->qos;
    }
    if (q == 0) continue;
    if (se->nqueued >= MG_MQTT_BROKER_MAX_OFFLINE) {
      MG_DEBUG(("MQTT broker: offline queue full, message dropped"));
      continue;
    }
    if ((r = new_mret(topic, data, props, q)) == NULL) continue;
    if (se->tail == NULL) se->tail = &se->queue;
    *se->tail = r;
    se->tail = &r->next;
    se->nqueued++;
  }
}

static void route(struct mqtt_broker *b, struct mg_str topic,
                  struct mg_str data, uint8_t qos, struct mg_str props) {
  unsigned gen = ++b->gen;
  struct msub *s;
  struct mqtt_client *cl;
  bool any = false;
  if (qos > 1) qos = 1;
  if (qos > 0 && b->sessions != NULL) queue_offline(b, topic, data, props);
  for (s = b->subs; s != NULL; s = s->next) {
    if (!mg_mqtt_match(topic, s->filter)) continue;
    uint8_t q = s->qos < qos ? s->qos : qos;
    cl = s->cl;
    if (cl->gen != gen) {
      cl->gen = gen;
      cl->dqos = q;
      any = true;
    } else if (q > cl->dqos) {
      cl->dqos = q;
    }
  }
  if (!any) return;
  for (cl = b->clients; cl != NULL; cl = cl->next) {
    if (cl->gen == gen && cl->connected) {
      send_to(cl, topic, data, cl->dqos, false, props);
    }
  }
}

static void retain(struct mqtt_broker *b, struct mg_str topic,
                   struct mg_str data, uint8_t qos, struct mg_str props) {
  struct mret **p = &b->ret, *r;
  while (*p != NULL && !str_eq((*p)->topic, topic)) p = &(*p)->next;
  if ((r = *p) != NULL) {  // replace or delete
    free(r->data.buf);
    free(r->props.buf);
    if (data.len == 0) {  // 3.3.1.3: an empty payload deletes
      *p = r->next;
      free(r->topic.buf);
      free(r);
      b->nret--;
      return;
    }
  } else {
    if (data.len == 0) return;
    if (b->nret >= MG_MQTT_BROKER_MAX_RETAINED) {
      MG_ERROR(("MQTT broker: too many retained messages, not kept"));
      return;
    }
    if ((r = (struct mret *) calloc(1, sizeof(*r))) == NULL) return;
    if ((r->topic = dup_str(topic)).buf == NULL) {
      free(r);
      return;
    }
    r->next = b->ret;
    b->ret = r;
    b->nret++;
  }
  r->data = dup_str(data);
  r->props = dup_str(props);
  r->qos = qos > 1 ? 1 : qos;
}

static void publish(struct mqtt_broker *b, struct mg_str topic,
                    struct mg_str data, uint8_t qos, bool ret,
                    struct mg_str props) {
  if (ret) retain(b, topic, data, qos, props);
  route(b, topic, data, qos, props);
}

// ---- Subscriptions ----------------------------------------------------------------------
static void free_subs(struct msub *s) {
  while (s != NULL) {
    struct msub *next = s->next;
    free(s->filter.buf);
    free(s);
    s = next;
  }
}

// Moves the subscriptions of cl out of the broker's list (into *out)
static void take_subs(struct mqtt_broker *b, struct mqtt_client *cl,
                      struct msub **out) {
  struct msub **p = &b->subs;
  while (*p != NULL) {
    struct msub *s = *p;
    if (s->cl == cl) {
      *p = s->next;
      s->next = *out;
      *out = s;
    } else {
      p = &s->next;
    }
  }
}

static void give_subs(struct mqtt_broker *b, struct mqtt_client *cl,
                      struct msub *list) {
  while (list != NULL) {
    struct msub *s = list;
    list = s->next;
    s->cl = cl;
    s->next = b->subs;
    b->subs = s;
  }
}

static uint8_t subscribe(struct mqtt_broker *b, struct mqtt_client *cl,
                         struct mg_str filter, uint8_t qos) {
  struct msub *s;
  if (qos > 1) qos = 1;
  for (s = b->subs; s != NULL; s = s->next) {
    if (s->cl == cl && str_eq(s->filter, filter)) break;
  }
  if (s == NULL) {
    if ((s = (struct msub *) calloc(1, sizeof(*s))) == NULL) return 0x80;
    if ((s->filter = dup_str(filter)).buf == NULL) {
      free(s);
      return 0x80;
    }
    s->cl = cl;
    s->next = b->subs;
    b->subs = s;
  }
  s->qos = qos;
  return qos;
}

static void send_retained(struct mqtt_broker *b, struct mqtt_client *cl,
                          struct mg_str filter, uint8_t qos) {
  struct mret *r;
  for (r = b->ret; r != NULL; r = r->next) {
    if (mg_mqtt_match(r->topic, filter)) {
      send_to(cl, r->topic, r->data, r->qos < qos ? r->qos : qos, true,
              r->props);
    }
  }
}

static bool unsubscribe(struct mqtt_broker *b, struct mqtt_client *cl,
                        struct mg_str filter) {
  struct msub **p = &b->subs;
  for (; *p != NULL; p = &(*p)->next) {
    struct msub *s = *p;
    if (s->cl == cl && str_eq(s->filter, filter)) {
      *p = s->next;
      free(s->filter.buf);
      free(s);
      return true;
    }
  }
  return false;
}

// ---- Packets ------------------------------------------------------------------------------
// A length-prefixed field at p[*pos..n)
static bool rd_str(const uint8_t *p, size_t n, size_t *pos, struct mg_str *s) {
  size_t len;
  if (n - *pos < 2) return false;
  len = (size_t) p[*pos] << 8 | p[*pos + 1];
  if (n - *pos - 2 < len) return false;
  *s = mg_str_n((const char *) p + *pos + 2, len);
  *pos += 2 + len;
  return true;
}

// A property block at p[*pos..n): its bytes (without the length)
static bool rd_props(const uint8_t *p, size_t n, size_t *pos, struct mg_str *s) {
  uint32_t len;
  int k = mqtt_varint_get(p + *pos, n - *pos, &len);
  if (k <= 0 || n - *pos - (size_t) k < len) return false;
  *s = mg_str_n((const char *) p + *pos + k, len);
  *pos += (size_t) k + len;
  return true;
}

static uint32_t prop_int(struct mg_str props, uint8_t id) {
  struct mg_mqtt_message m;
  struct mg_mqtt_prop prop;
  size_t ofs = 0;
  memset(&m, 0, sizeof(m));
  m.dgram = props;
  m.props_size = props.len;
  while ((ofs = mg_mqtt_next_prop(&m, &prop, ofs)) > 0) {
    if (prop.id == id) return prop.iv;
  }
  return 0;
}

static bool has_prop(struct mg_str props, uint8_t id) {
  struct mg_mqtt_message m;
  struct mg_mqtt_prop prop;
  size_t ofs = 0;
  memset(&m, 0, sizeof(m));
  m.dgram = props;
  m.props_size = props.len;
  while ((ofs = mg_mqtt_next_prop(&m, &prop, ofs)) > 0) {
    if (prop.id == id) return true;
  }
  return false;
}

static void connack(struct mg_connection *c, bool sp, uint8_t code,
                    struct mg_str assigned) {
  uint8_t b[2] = {(uint8_t) (sp ? 1 : 0), code};
  if (c->is_mqtt5) {
    struct mg_mqtt_prop props[3];
    size_t n = 0, size;
    memset(props, 0, sizeof(props));
    props[n].id = MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, n++;
    props[n].id = MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, n++;
    if (assigned.len > 0) {
      props[n].id = MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER;
      props[n++].val = assigned;
    }
    size = mqtt_props_size(props, n);
    mg_mqtt_send_header(c, MQTT_CMD_CONNACK, 0,
                        (uint32_t) (2 + mqtt_varint_len((uint32_t) size) + size));
    mg_send(c, b, 2);
    mqtt_send_props(c, props, n);
  } else {
    mg_mqtt_send_header(c, MQTT_CMD_CONNACK, 0, 2);
    mg_send(c, b, 2);
  }
}

static struct mqtt_client *find_client(struct mqtt_broker *b, struct mg_str id) {
  struct mqtt_client *cl;
  for (cl = b->clients; cl != NULL; cl = cl->next) {
    if (cl->connected && !cl->taken && str_eq(cl->id, id)) return cl;
  }
  return NULL;
}

static bool on_connect(struct mg_connection *c, struct mqtt_state *st,
                       struct mg_mqtt_message *m) {
  struct mqtt_broker *b = st->broker;
  struct mqtt_client *cl, *old;
  const uint8_t *p = (const uint8_t *) m->data.buf;
  size_t n = m->data.len, pos = 0;
  struct mg_str proto, props = {NULL, 0}, id, wprops = {NULL, 0}, wt = {NULL, 0}, wm, u, pw;
  uint8_t level, flags;
  uint16_t ka;
  char idbuf[24];
  bool clean, sp = false, assigned = false;
  struct msession **sp_, *sess;
  struct mret *queued = NULL, *r;  // to send after CONNACK
  if (!rd_str(p, n, &pos, &proto) || n - pos < 4) return false;
  level = p[pos], flags = p[pos + 1];
  ka = (uint16_t) (p[pos + 2] << 8 | p[pos + 3]);
  pos += 4;
  if (!(str_eq(proto, mg_str("MQTT")) && (level == 4 || level == 5)) &&
      !(str_eq(proto, mg_str("MQIsdp")) && level == 3)) {
    c->is_mqtt5 = 0;
    connack(c, false, 1, mg_str_n(NULL, 0));  // unacceptable protocol version
    return false;
  }
  if ((flags & 1) || (!(flags & 4) && (flags & 0x38)) || ((flags >> 3) & 3) == 3) {
    return false;  // 3.1.2.3, 3.1.2.11
  }
  if (level == 5 && !rd_props(p, n, &pos, &props)) return false;
  if (!rd_str(p, n, &pos, &id)) return false;
  if (flags & 4) {
    if (level == 5 && !rd_props(p, n, &pos, &wprops)) return false;
    if (!rd_str(p, n, &pos, &wt) || !rd_str(p, n, &pos, &wm)) return false;
    if (!topic_ok(wt)) return false;
  }
  if ((flags & 0x80) && !rd_str(p, n, &pos, &u)) return false;
  if ((flags & 0x40) && !rd_str(p, n, &pos, &pw)) return false;
  if (pos != n) return false;
  clean = (flags & 2) != 0;
  if (id.len == 0) {
    if (!clean && level < 5) {
      connack(c, false, 2, mg_str_n(NULL, 0));  // identifier rejected
      return false;
    }
    mg_snprintf(idbuf, sizeof(idbuf), "wg-%lu-%lx", c->id,
                (unsigned long) mg_millis());
    id = mg_str(idbuf);
    assigned = true;
  }
  if ((cl = (struct mqtt_client *) calloc(1, sizeof(*cl))) == NULL) return false;
  cl->c = c;
  cl->id = dup_str(id);
  if (cl->id.buf == NULL) {
    free(cl);
    return false;
  }
  cl->keepalive = ka;
  cl->persist = level == 5 ? prop_int(props, MQTT_PROP_SESSION_EXPIRY_INTERVAL) > 0
                           : !clean;
  if (flags & 4) {
    cl->has_will = true;
    cl->will_qos = (uint8_t) ((flags >> 3) & 3);
    cl->will_retain = (flags & 0x20) != 0;
    cl->will_topic = dup_str(wt);
    cl->will_msg = dup_str(wm);
    cl->will_props = dup_str(wprops);
  }
  cl->next = b->clients;
  b->clients = cl;
  st->client = cl;
  // 3.1.4-2: a client with the same id is disconnected; its session goes on
  if ((old = find_client(b, id)) != NULL && old != cl) {
    struct msub *subs = NULL;
    old->taken = true;
    take_subs(b, old, &subs);
    if (clean) {
      free_subs(subs);
    } else {
      give_subs(b, cl, subs);
      queued = old->inflight;  // resent below
      old->inflight = NULL;
      old->itail = NULL;
      old->ninflight = 0;
      cl->next_id = old->next_id;
      sp = true;
    }
    old->c->is_closing = 1;
    mg_io_check(old->c);
  }
  for (sp_ = &b->sessions; (sess = *sp_) != NULL; sp_ = &sess->next) {
    if (str_eq(sess->id, id)) {
      *sp_ = sess->next;
      if (clean) {
        free_subs(sess->subs);
        free_mrets(sess->queue);
      } else {
        give_subs(b, cl, sess->subs);
        free_mrets(queued);  // (none: a live client and a stored session)
        queued = sess->queue;
        cl->next_id = sess->next_id;
        sp = true;
      }
      free(sess->id.buf);
      free(sess);
      break;
    }
  }
  cl->connected = true;
  connack(c, sp, 0, assigned ? cl->id : mg_str_n(NULL, 0));
  while ((r = queued) != NULL) {  // 4.4: unacknowledged first, same ids
    queued = r->next;
    r->next = NULL;
    if (r->dup) {
      mqtt_send_publish(c, r->topic, r->data, r->qos, false, true, r->id,
                        r->props);
      track(cl, r);
    } else {
      send_to(cl, r->topic, r->data, r->qos, false, r->props);
      free_mrets(r);
    }
  }
  return true;
}

static bool on_subscribe(struct mg_connection *c, struct mqtt_client *cl,
                         struct mg_mqtt_message *m) {
  struct mqtt_broker *b = ((struct mqtt_state *) c->pfn_data)->broker;
  const uint8_t *p = (const uint8_t *) m->data.buf;
  size_t n = m->data.len, pos = 0, count = 0, i;
  struct mg_str f;
  uint8_t codes[256];
  if (n == 0) return false;  // 3.8.3-3: at least one topic
  while (pos < n) {  // validate first
    if (!rd_str(p, n, &pos, &f) || pos >= n) return false;
    if ((p[pos] & (c->is_mqtt5 ? 0xc0 : 0xfc)) || (p[pos] & 3) == 3) {
      return false;
    }
    pos++;
    count++;
  }
  if (count > sizeof(codes)) return false;
  for (pos = 0, i = 0; pos < n; i++) {
    uint8_t qos;
    rd_str(p, n, &pos, &f);
    qos = p[pos++] & 3;
    if (!filter_ok(f)) {
      codes[i] = c->is_mqtt5 ? 0x8f : 0x80;  // topic filter invalid
    } else if (c->is_mqtt5 && f.len > 7 && memcmp(f.buf, "$share/", 7) == 0) {
      codes[i] = 0x9e;  // shared subscriptions not supported
    } else {
      codes[i] = subscribe(b, cl, f, qos);
    }
  }
  mg_mqtt_send_header(c, MQTT_CMD_SUBACK, 0,
                      (uint32_t) (2 + (c->is_mqtt5 ? 1 : 0) + count));
  {
    uint8_t idb[3] = {(uint8_t) (m->id >> 8), (uint8_t) m->id, 0};
    mg_send(c, idb, c->is_mqtt5 ? 3 : 2);
  }
  mg_send(c, codes, count);
  for (pos = 0, i = 0; pos < n; i++) {  // 3.3.1.3: retained messages
    rd_str(p, n, &pos, &f);
    pos++;
    if (codes[i] < 0x80) send_retained(b, cl, f, codes[i]);
  }
  return true;
}

static bool on_unsubscribe(struct mg_connection *c, struct mqtt_client *cl,
                           struct mg_mqtt_message *m) {
  struct mqtt_broker *b = ((struct mqtt_state *) c->pfn_data)->broker;
  const uint8_t *p = (const uint8_t *) m->data.buf;
  size_t n = m->data.len, pos = 0, count = 0;
  struct mg_str f;
  uint8_t codes[256];
  if (n == 0) return false;
  while (pos < n) {
    if (!rd_str(p, n, &pos, &f) || count >= sizeof(codes)) return false;
    codes[count++] = unsubscribe(b, cl, f) ? 0 : 0x11;
  }
  if (c->is_mqtt5) {
    uint8_t idb[3] = {(uint8_t) (m->id >> 8), (uint8_t) m->id, 0};
    mg_mqtt_send_header(c, MQTT_CMD_UNSUBACK, 0, (uint32_t) (3 + count));
    mg_send(c, idb, 3);
    mg_send(c, codes, count);
  } else {
    uint8_t idb[2] = {(uint8_t) (m->id >> 8), (uint8_t) m->id};
    mg_mqtt_send_header(c, MQTT_CMD_UNSUBACK, 0, 2);
    mg_send(c, idb, 2);
  }
  return true;
}

bool mqtt_broker_packet(struct mg_connection *c, struct mqtt_state *st,
                        struct mg_mqtt_message *m) {
  struct mqtt_client *cl = st->client;
  bool ok = true;
  if (cl == NULL) {  // 3.1.0-1: the first packet is CONNECT
    ok = m->cmd == MQTT_CMD_CONNECT && on_connect(c, st, m);
  } else {
    switch (m->cmd) {
      case MQTT_CMD_CONNECT:  // 3.1.0-2: only one
        ok = false;
        break;
      case MQTT_CMD_PUBLISH:
        if (!topic_ok(m->topic)) ok = false;  // no wildcards, no aliases
        if (m->props_size > 0 &&
            has_prop(mg_str_n(m->dgram.buf + m->props_start, m->props_size),
                     MQTT_PROP_TOPIC_ALIAS)) {
          ok = false;  // we granted no topic aliases
        }
        break;
      case MQTT_CMD_PUBACK:
        if (cl->inflight != NULL) acked(cl, m->id);
        break;
      case MQTT_CMD_SUBSCRIBE:
        ok = on_subscribe(c, cl, m);
        break;
      case MQTT_CMD_UNSUBSCRIBE:
        ok = on_unsubscribe(c, cl, m);
        break;
      case MQTT_CMD_DISCONNECT:  // a normal disconnect drops the will, but
        cl->keep_will = c->is_mqtt5 && m->ack == 0x04;  // MQTT 5 reason 4
        cl->bye = true;
        c->is_draining = 1;
        mg_io_check(c);
        return true;  // the user's handler still sees it
      default:
        break;
    }
  }
  if (!ok && !c->is_closing) {
    MG_DEBUG(("%lu MQTT protocol error (packet type %d)", c->id, m->cmd));
    c->is_draining = 1;  // a CONNACK with an error code goes out first
    mg_io_check(c);
  }
  return ok;
}

void mqtt_broker_publish(struct mg_connection *c, struct mqtt_state *st,
                         struct mg_mqtt_message *m) {
  struct mg_str props = {NULL, 0};
  bool ret = (m->dgram.buf[0] & 1) != 0;
  (void) c;
  if (st->client == NULL) return;
  if (m->props_size > 0) {
    props = mg_str_n(m->dgram.buf + m->props_start, m->props_size);
  }
  publish(st->broker, m->topic, m->data, m->qos, ret, props);
}

static void free_client(struct mqtt_client *cl) {
  free_mrets(cl->inflight);
  free(cl->id.buf);
  free(cl->will_topic.buf);
  free(cl->will_msg.buf);
  free(cl->will_props.buf);
  free(cl);
}

void mqtt_broker_closed(struct mg_connection *c, struct mqtt_state *st) {
  struct mqtt_broker *b = st->broker;
  struct mqtt_client *cl = st->client, **p;
  struct msub *subs = NULL, *s;
  (void) c;
  if (cl == NULL) return;
  for (p = &b->clients; *p != NULL && *p != cl; p = &(*p)->next) (void) 0;
  if (*p == cl) *p = cl->next;
  take_subs(b, cl, &subs);
  for (s = subs; s != NULL; s = s->next) s->cl = NULL;
  if (cl->connected && cl->persist && !cl->taken) {
    struct msession *s = (struct msession *) calloc(1, sizeof(*s));
    if (s != NULL) {
      s->id = cl->id;
      cl->id.buf = NULL;
      s->subs = subs;
      subs = NULL;
      s->queue = cl->inflight;
      s->tail = cl->inflight == NULL ? NULL : cl->itail;
      s->nqueued = cl->ninflight;
      s->next_id = cl->next_id;
      cl->inflight = NULL;
      s->next = b->sessions;
      b->sessions = s;
    }
  }
  free_subs(subs);
  // 3.1.2.5: the will goes out unless the client said DISCONNECT
  if (cl->connected && cl->has_will && (!cl->bye || cl->keep_will)) {
    publish(b, cl->will_topic, cl->will_msg, cl->will_qos, cl->will_retain,
            cl->will_props);
  }
  st->client = NULL;
  free_client(cl);
}

// Keepalive expiry (3.1.2.10: one and a half times the keepalive) and
// clients that never send CONNECT
static void broker_timer(void *arg) {
  struct mqtt_broker *b = (struct mqtt_broker *) arg;
  struct mg_connection *c;
  uint64_t now = mg_millis();
  for (c = b->mgr->conns; c != NULL; c = c->next) {
    struct mqtt_state *st = mqtt_state(c);
    if (st == NULL || st->broker != b || c->is_closing) continue;
    if (st->client == NULL) {
      if (now - st->last_rx > MQTT_CONNECT_TIMEOUT_MS) {
        mg_error(c, "MQTT: no CONNECT");
      }
    } else if (st->client->keepalive > 0 &&
               now - st->last_rx > (uint64_t) st->client->keepalive * 1500) {
      mg_error(c, "MQTT keepalive expired");
    }
  }
}

void mqtt_broker_free(struct mg_connection *lsn) {
  struct mqtt_broker *b = (struct mqtt_broker *) lsn->pfn_data;
  struct mg_connection *c;
  for (c = lsn->mgr->conns; c != NULL; c = c->next) {
    struct mqtt_state *st = mqtt_state(c);
    if (st == NULL || st->broker != b || c == lsn) continue;
    st->broker = NULL;
    st->client = NULL;
    c->is_closing = 1;
    mg_io_check(c);
  }
  while (b->clients != NULL) {
    struct mqtt_client *cl = b->clients;
    b->clients = cl->next;
    free_client(cl);
  }
  free_subs(b->subs);
  while (b->sessions != NULL) {
    struct msession *s = b->sessions;
    b->sessions = s->next;
    free_subs(s->subs);
    free_mrets(s->queue);
    free(s->id.buf);
    free(s);
  }
  free_mrets(b->ret);
  mg_timer_free(&lsn->mgr->timers, b->timer);
  free(b);
  lsn->pfn_data = NULL;
}

struct mg_connection *mg_mqtt_broker(struct mg_mgr *mgr, const char *url,
                                     mg_event_handler_t fn, void *fn_data) {
  struct mqtt_broker *b = (struct mqtt_broker *) calloc(1, sizeof(*b));
  struct mg_connection *c;
  if (b == NULL) return NULL;
  b->mgr = mgr;
  if ((b->timer = mg_timer_add(mgr, 1000, MG_TIMER_REPEAT, broker_timer, b)) ==
      NULL) {
    free(b);
    return NULL;
  }
  if ((c = mg_listen(mgr, url, fn, fn_data)) == NULL) {
    mg_timer_free(&mgr->timers, b->timer);
    free(b);
    return NULL;
  }
  c->pfn = mqtt_ev;
  c->pfn_data = b;
  return c;
}
