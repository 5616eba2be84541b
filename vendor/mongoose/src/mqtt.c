// wasmgoose — MQTT 3.1.1 and MQTT 5: packet parser and builders, the client
// and server protocol handler (acknowledgement flows, keepalive).
// Written from the OASIS MQTT 3.1.1 and MQTT 5.0 specifications and the API
// in MONGOOSE_API.md. The broker is in mqtt_broker.c.
// SPDX-License-Identifier: MIT
#include "mqtt_private.h"

// ---- Properties ---------------------------------------------------------------------
int mg_mqtt_prop_type(uint8_t id) {
  switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION:
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION:
    case MQTT_PROP_MAXIMUM_QOS:
    case MQTT_PROP_RETAIN_AVAILABLE:
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
      return MQTT_PROP_TYPE_BYTE;
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL:
    case MQTT_PROP_WILL_DELAY_INTERVAL:
    case MQTT_PROP_MAXIMUM_PACKET_SIZE:
      return MQTT_PROP_TYPE_INT;
    case MQTT_PROP_CONTENT_TYPE:
    case MQTT_PROP_RESPONSE_TOPIC:
    case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
    case MQTT_PROP_AUTHENTICATION_METHOD:
    case MQTT_PROP_RESPONSE_INFORMATION:
    case MQTT_PROP_SERVER_REFERENCE:
    case MQTT_PROP_REASON_STRING:
      return MQTT_PROP_TYPE_STRING;
    case MQTT_PROP_CORRELATION_DATA:
    case MQTT_PROP_AUTHENTICATION_DATA:
      return MQTT_PROP_TYPE_BINARY_DATA;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER:
      return MQTT_PROP_TYPE_VARIABLE_INT;
    case MQTT_PROP_SERVER_KEEP_ALIVE:
    case MQTT_PROP_RECEIVE_MAXIMUM:
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM:
    case MQTT_PROP_TOPIC_ALIAS:
      return MQTT_PROP_TYPE_SHORT;
    case MQTT_PROP_USER_PROPERTY:
      return MQTT_PROP_TYPE_STRING_PAIR;
    default:
      return -1;
  }
}

// Variable Byte Integer (1.5.5): writes up to 4 bytes, returns how many
size_t mqtt_varint_put(uint8_t *p, uint32_t v) {
  size_t n = 0;
  do {
    uint8_t b = (uint8_t) (v & 0x7f);
    v >>= 7;
    p[n++] = (uint8_t) (v > 0 ? b | 0x80 : b);
  } while (v > 0 && n < 4);
  return n;
}

size_t mqtt_varint_len(uint32_t v) {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

// Reads a Variable Byte Integer at p[0..n): 0 malformed, -1 incomplete, or
// the number of bytes used
int mqtt_varint_get(const uint8_t *p, size_t n, uint32_t *v) {
  uint32_t val = 0;
  size_t i;
  for (i = 0; i < 4; i++) {
    if (i >= n) return -1;
    val |= (uint32_t) (p[i] & 0x7f) << (7 * i);
    if ((p[i] & 0x80) == 0) {
      *v = val;
      return (int) i + 1;
    }
  }
  return 0;
}

// Encoded size of one property (0 for an unknown id)
static size_t prop_size(const struct mg_mqtt_prop *p) {
  switch (mg_mqtt_prop_type(p->id)) {
    case MQTT_PROP_TYPE_BYTE: return 2;
    case MQTT_PROP_TYPE_SHORT: return 3;
    case MQTT_PROP_TYPE_INT: return 5;
    case MQTT_PROP_TYPE_VARIABLE_INT: return 1 + mqtt_varint_len(p->iv);
    case MQTT_PROP_TYPE_STRING:
    case MQTT_PROP_TYPE_BINARY_DATA: return 3 + p->val.len;
    case MQTT_PROP_TYPE_STRING_PAIR: return 5 + p->key.len + p->val.len;
    default: return 0;
  }
}

size_t mqtt_props_size(const struct mg_mqtt_prop *props, size_t n) {
  size_t i, size = 0;
  for (i = 0; i < n; i++) size += prop_size(&props[i]);
  return size;
}

static void send_u16(struct mg_connection *c, uint16_t v) {
  uint8_t b[2] = {(uint8_t) (v >> 8), (uint8_t) v};
  mg_send(c, b, 2);
}

static void send_u32(struct mg_connection *c, uint32_t v) {
  uint8_t b[4] = {(uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8),
                  (uint8_t) v};
  mg_send(c, b, 4);
}

void mqtt_send_varint(struct mg_connection *c, uint32_t v) {
  uint8_t b[4];
  mg_send(c, b, mqtt_varint_put(b, v));
}

// A length-prefixed string or binary (at most 65535 bytes: longer is cut)
void mqtt_send_str(struct mg_connection *c, struct mg_str s) {
  size_t n = s.len > 0xffff ? 0xffff : s.len;
  send_u16(c, (uint16_t) n);
  if (n > 0) mg_send(c, s.buf, n);
}

// The property block: its length, then the properties
void mqtt_send_props(struct mg_connection *c, const struct mg_mqtt_prop *props,
                     size_t n) {
  size_t i;
  mqtt_send_varint(c, (uint32_t) mqtt_props_size(props, n));
  for (i = 0; i < n; i++) {
    const struct mg_mqtt_prop *p = &props[i];
    int type = mg_mqtt_prop_type(p->id);
    if (type < 0) continue;
    mg_send(c, &p->id, 1);
    switch (type) {
      case MQTT_PROP_TYPE_BYTE: {
        uint8_t b = (uint8_t) p->iv;
        mg_send(c, &b, 1);
        break;
      }
      case MQTT_PROP_TYPE_SHORT: send_u16(c, (uint16_t) p->iv); break;
      case MQTT_PROP_TYPE_INT: send_u32(c, p->iv); break;
      case MQTT_PROP_TYPE_VARIABLE_INT: mqtt_send_varint(c, p->iv); break;
      case MQTT_PROP_TYPE_STRING_PAIR:
        mqtt_send_str(c, p->key);
        mqtt_send_str(c, p->val);
        break;
      default: mqtt_send_str(c, p->val); break;
    }
  }
}

// Size of the property block (with its length) if sent on c
static size_t props_block(struct mg_connection *c, const struct mg_mqtt_prop *p,
                          size_t n) {
  size_t size;
  if (!c->is_mqtt5) return 0;
  size = mqtt_props_size(p, n);
  return mqtt_varint_len((uint32_t) size) + size;
}

// Parses one property at p[0..n); returns its size, or 0 if malformed
static size_t prop_parse(const uint8_t *p, size_t n, struct mg_mqtt_prop *prop) {
  size_t i = 1, l1, l2;
  uint32_t v;
  int k;
  if (n < 1) return 0;
  memset(prop, 0, sizeof(*prop));
  prop->id = p[0];
  switch (mg_mqtt_prop_type(p[0])) {
    case MQTT_PROP_TYPE_BYTE:
      if (n < 2) return 0;
      prop->iv = p[1];
      return 2;
    case MQTT_PROP_TYPE_SHORT:
      if (n < 3) return 0;
      prop->iv = (uint32_t) p[1] << 8 | p[2];
      return 3;
    case MQTT_PROP_TYPE_INT:
      if (n < 5) return 0;
      prop->iv = (uint32_t) p[1] << 24 | (uint32_t) p[2] << 16 |
                 (uint32_t) p[3] << 8 | p[4];
      return 5;
    case MQTT_PROP_TYPE_VARIABLE_INT:
      if ((k = mqtt_varint_get(p + 1, n - 1, &v)) <= 0) return 0;
      prop->iv = v;
      return 1 + (size_t) k;
    case MQTT_PROP_TYPE_STRING_PAIR:
      if (n < 3 || (l1 = (size_t) p[1] << 8 | p[2]) + 5 > n) return 0;
      prop->key = mg_str_n((const char *) p + 3, l1);
      i = 3 + l1;
      if ((l2 = (size_t) p[i] << 8 | p[i + 1]) + i + 2 > n) return 0;
      prop->val = mg_str_n((const char *) p + i + 2, l2);
      return i + 2 + l2;
    case MQTT_PROP_TYPE_STRING:
    case MQTT_PROP_TYPE_BINARY_DATA:
      if (n < 3 || (l1 = (size_t) p[1] << 8 | p[2]) + 3 > n) return 0;
      prop->val = mg_str_n((const char *) p + 3, l1);
      return 3 + l1;
    default:
      return 0;
  }
}

size_t mg_mqtt_next_prop(struct mg_mqtt_message *msg, struct mg_mqtt_prop *prop,
                         size_t ofs) {
  const uint8_t *p = (const uint8_t *) msg->dgram.buf + msg->props_start;
  size_t n;
  if (msg->props_size == 0 || ofs >= msg->props_size ||
      msg->props_start + msg->props_size > msg->dgram.len) {
    return 0;
  }
  n = prop_parse(p + ofs, msg->props_size - ofs, prop);
  return n == 0 ? 0 : ofs + n;
}

// ---- Parser -------------------------------------------------------------------------
// Reads the property block at dgram[*pos..end): sets props_start/size
static bool parse_props(struct mg_mqtt_message *m, size_t *pos, size_t end) {
  const uint8_t *p = (const uint8_t *) m->dgram.buf;
  struct mg_mqtt_prop prop;
  uint32_t len;
  size_t i, k;
  int n = mqtt_varint_get(p + *pos, end - *pos, &len);
  if (n <= 0 || len > end - *pos - (size_t) n) return false;
  m->props_start = *pos + (size_t) n;
  m->props_size = len;
  for (i = 0; i < len; i += k) {  // every property must be well formed
    k = prop_parse(p + m->props_start + i, len - i, &prop);
    if (k == 0) return false;
  }
  *pos = m->props_start + len;
  return true;
}

int mg_mqtt_parse(const uint8_t *buf, size_t len, uint8_t version,
                  struct mg_mqtt_message *m) {
  uint32_t rl;
  size_t hl, end, pos;
  uint8_t flags;
  int n;
  memset(m, 0, sizeof(*m));
  if (len < 2) return MQTT_INCOMPLETE;
  n = mqtt_varint_get(buf + 1, len - 1, &rl);
  if (n == 0) return MQTT_MALFORMED;
  if (n < 0) return MQTT_INCOMPLETE;
  hl = 1 + (size_t) n;
  if (len - hl < rl) return MQTT_INCOMPLETE;
  end = hl + rl;
  m->cmd = (uint8_t) (buf[0] >> 4);
  flags = (uint8_t) (buf[0] & 15);
  m->dgram = mg_str_n((const char *) buf, end);
  pos = hl;
  switch (m->cmd) {
    case MQTT_CMD_PUBLISH:
      m->qos = (uint8_t) ((flags >> 1) & 3);
      if (m->qos == 3 || end - pos < 2) return MQTT_MALFORMED;
      m->topic.len = (size_t) buf[pos] << 8 | buf[pos + 1];
      m->topic.buf = (char *) buf + pos + 2;
      pos += 2 + m->topic.len;
      if (pos > end) return MQTT_MALFORMED;
      if (m->qos > 0) {
        if (end - pos < 2) return MQTT_MALFORMED;
        m->id = (uint16_t) (buf[pos] << 8 | buf[pos + 1]);
        if (m->id == 0) return MQTT_MALFORMED;
        pos += 2;
      }
      if (version == 5 && !parse_props(m, &pos, end)) return MQTT_MALFORMED;
      m->data = mg_str_n((const char *) buf + pos, end - pos);
      break;
    case MQTT_CMD_CONNACK:
      if (flags != 0 || rl < 2) return MQTT_MALFORMED;
      m->ack = buf[pos + 1];
      pos += 2;
      if (version == 5 && pos < end && !parse_props(m, &pos, end)) {
        return MQTT_MALFORMED;
      }
      break;
    case MQTT_CMD_PUBACK:
    case MQTT_CMD_PUBREC:
    case MQTT_CMD_PUBREL:
    case MQTT_CMD_PUBCOMP:
    case MQTT_CMD_SUBACK:
    case MQTT_CMD_UNSUBACK:
    case MQTT_CMD_SUBSCRIBE:
    case MQTT_CMD_UNSUBSCRIBE:
      if (flags != ((m->cmd == MQTT_CMD_PUBREL || m->cmd == MQTT_CMD_SUBSCRIBE ||
                     m->cmd == MQTT_CMD_UNSUBSCRIBE)
                        ? 2
                        : 0)) {
        return MQTT_MALFORMED;
      }
      if (rl < 2) return MQTT_MALFORMED;
      m->id = (uint16_t) (buf[pos] << 8 | buf[pos + 1]);
      pos += 2;
      if (m->cmd >= MQTT_CMD_PUBACK && m->cmd <= MQTT_CMD_PUBCOMP) {
        if (version == 5 && pos < end) {  // reason code, then properties
          m->ack = buf[pos++];
          if (pos < end && !parse_props(m, &pos, end)) return MQTT_MALFORMED;
        }
        if (pos != end) return MQTT_MALFORMED;
      } else {
        if (version == 5 && !parse_props(m, &pos, end)) return MQTT_MALFORMED;
        if ((m->cmd == MQTT_CMD_SUBACK || m->cmd == MQTT_CMD_UNSUBACK) &&
            pos < end) {
          m->ack = buf[pos];  // the first return / reason code
        }
        m->data = mg_str_n((const char *) buf + pos, end - pos);
      }
      break;
    case MQTT_CMD_DISCONNECT:
    case MQTT_CMD_AUTH:
      if (flags != 0) return MQTT_MALFORMED;
      if (version == 5 && pos < end) {
        m->ack = buf[pos++];
        if (pos < end && !parse_props(m, &pos, end)) return MQTT_MALFORMED;
      }
      break;
    case MQTT_CMD_PINGREQ:
    case MQTT_CMD_PINGRESP:
      if (flags != 0 || rl != 0) return MQTT_MALFORMED;
      break;
    case MQTT_CMD_CONNECT:
      if (flags != 0) return MQTT_MALFORMED;
      m->data = mg_str_n((const char *) buf + pos, end - pos);
      break;
    default:
      return MQTT_MALFORMED;
  }
  return MQTT_OK;
}

// ---- Builders -----------------------------------------------------------------------
struct mqtt_state *mqtt_state(struct mg_connection *c) {
  return c->pfn == mqtt_ev && !c->is_listening ? (struct mqtt_state *) c->pfn_data
                                               : NULL;
}

void mg_mqtt_send_header(struct mg_connection *c, uint8_t cmd, uint8_t flags,
                         uint32_t len) {
  uint8_t b[5];
  struct mqtt_state *st = mqtt_state(c);
  b[0] = (uint8_t) (cmd << 4 | (flags & 15));
  mg_send(c, b, 1 + mqtt_varint_put(b + 1, len));
  if (st != NULL) st->last_tx = mg_millis();
}

static uint16_t next_id(struct mg_mgr *mgr) {
  if (++mgr->mqtt_id == 0) mgr->mqtt_id = 1;
  return mgr->mqtt_id;
}

// A random client id: "wg" and 16 hex digits
static void random_id(struct mg_connection *c, char *buf, size_t len) {
  static uint64_t s;
  uint64_t z;
  s += mg_now() ^ mg_millis() << 20 ^ (uint64_t) (uintptr_t) c ^ (uint64_t) c->id << 40;
  z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ z >> 27) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  mg_snprintf(buf, len, "wg%08x%08x", (unsigned) (z >> 32), (unsigned) z);
}

void mg_mqtt_login(struct mg_connection *c, const struct mg_mqtt_opts *opts) {
  char idbuf[24];
  struct mg_str cid = opts->client_id;
  uint8_t flags = 0, hdr[10] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0, 0, 0};
  size_t len = sizeof(hdr);
  bool will = opts->topic.len > 0;
  struct mqtt_state *st = mqtt_state(c);
  if (opts->version == 5) c->is_mqtt5 = 1;
  hdr[6] = c->is_mqtt5 ? 5 : 4;
  if (cid.len == 0) {
    random_id(c, idbuf, sizeof(idbuf));
    cid = mg_str(idbuf);
  }
  if (opts->user.len > 0) flags |= 0x80;
  if (opts->pass.len > 0) flags |= 0x40;
  if (will) {
    flags |= (uint8_t) (0x04 | (opts->qos & 3) << 3 | (opts->retain ? 0x20 : 0));
  }
  if (opts->clean || opts->client_id.len == 0) flags |= 0x02;
  hdr[7] = flags;
  hdr[8] = (uint8_t) (opts->keepalive >> 8);
  hdr[9] = (uint8_t) opts->keepalive;
  len += props_block(c, opts->props, opts->num_props);
  len += 2 + cid.len;
  if (will) {
    len += props_block(c, opts->will_props, opts->num_will_props);
    len += 2 + opts->topic.len + 2 + opts->message.len;
  }
  if (opts->user.len > 0) len += 2 + opts->user.len;
  if (opts->pass.len > 0) len += 2 + opts->pass.len;
  mg_mqtt_send_header(c, MQTT_CMD_CONNECT, 0, (uint32_t) len);
  mg_send(c, hdr, sizeof(hdr));
  if (c->is_mqtt5) mqtt_send_props(c, opts->props, opts->num_props);
  mqtt_send_str(c, cid);
  if (will) {
    if (c->is_mqtt5) mqtt_send_props(c, opts->will_props, opts->num_will_props);
    mqtt_send_str(c, opts->topic);
    mqtt_send_str(c, opts->message);
  }
  if (opts->user.len > 0) mqtt_send_str(c, opts->user);
  if (opts->pass.len > 0) mqtt_send_str(c, opts->pass);
  if (st != NULL) st->keepalive = opts->keepalive;
}

// A PUBLISH with already encoded MQTT 5 properties (raw: the property bytes
// without their length; ignored on an MQTT 3.1.1 connection)
void mqtt_send_publish(struct mg_connection *c, struct mg_str topic,
                       struct mg_str data, uint8_t qos, bool retain, bool dup,
                       uint16_t id, struct mg_str raw) {
  size_t len = 2 + topic.len + (qos > 0 ? 2 : 0) + data.len;
  if (c->is_mqtt5) len += mqtt_varint_len((uint32_t) raw.len) + raw.len;
  mg_mqtt_send_header(c, MQTT_CMD_PUBLISH,
                      (uint8_t) ((dup ? 8 : 0) | qos << 1 | (retain ? 1 : 0)),
                      (uint32_t) len);
  mqtt_send_str(c, topic);
  if (qos > 0) send_u16(c, id);
  if (c->is_mqtt5) {
    mqtt_send_varint(c, (uint32_t) raw.len);
    if (raw.len > 0) mg_send(c, raw.buf, raw.len);
  }
  if (data.len > 0) mg_send(c, data.buf, data.len);
}

uint16_t mg_mqtt_pub(struct mg_connection *c, const struct mg_mqtt_opts *opts) {
  uint8_t qos = (uint8_t) (opts->qos & 3);
  uint16_t id = 0;
  size_t len;
  if (qos == 3) qos = 2;
  if (qos > 0) id = opts->retransmit_id ? opts->retransmit_id : next_id(c->mgr);
  len = 2 + opts->topic.len + (qos > 0 ? 2 : 0) + opts->message.len +
        props_block(c, opts->props, opts->num_props);
  mg_mqtt_send_header(
      c, MQTT_CMD_PUBLISH,
      (uint8_t) ((opts->retransmit_id && qos > 0 ? 8 : 0) | qos << 1 |
                 (opts->retain ? 1 : 0)),
      (uint32_t) len);
  mqtt_send_str(c, opts->topic);
  if (qos > 0) send_u16(c, id);
  if (c->is_mqtt5) mqtt_send_props(c, opts->props, opts->num_props);
  if (opts->message.len > 0) mg_send(c, opts->message.buf, opts->message.len);
  return id;
}

void mg_mqtt_sub(struct mg_connection *c, const struct mg_mqtt_opts *opts) {
  uint8_t o = (uint8_t) (opts->qos & 3);
  size_t len = 2 + props_block(c, opts->props, opts->num_props) + 2 +
               opts->topic.len + 1;
  mg_mqtt_send_header(c, MQTT_CMD_SUBSCRIBE, 2, (uint32_t) len);
  send_u16(c, next_id(c->mgr));
  if (c->is_mqtt5) mqtt_send_props(c, opts->props, opts->num_props);
  mqtt_send_str(c, opts->topic);
  mg_send(c, &o, 1);
}

void mg_mqtt_unsub(struct mg_connection *c, const struct mg_mqtt_opts *opts) {
  size_t len = 2 + props_block(c, opts->props, opts->num_props) + 2 +
               opts->topic.len;
  mg_mqtt_send_header(c, MQTT_CMD_UNSUBSCRIBE, 2, (uint32_t) len);
  send_u16(c, next_id(c->mgr));
  if (c->is_mqtt5) mqtt_send_props(c, opts->props, opts->num_props);
  mqtt_send_str(c, opts->topic);
}

void mg_mqtt_ping(struct mg_connection *c) {
  mg_mqtt_send_header(c, MQTT_CMD_PINGREQ, 0, 0);
}

void mg_mqtt_pong(struct mg_connection *c) {
  mg_mqtt_send_header(c, MQTT_CMD_PINGRESP, 0, 0);
}

void mg_mqtt_disconnect(struct mg_connection *c,
                        const struct mg_mqtt_opts *opts) {
  size_t n = opts == NULL ? 0 : opts->num_props;
  if (c->is_mqtt5 && n > 0) {
    uint8_t reason = 0;
    size_t len = 1 + props_block(c, opts->props, n);
    mg_mqtt_send_header(c, MQTT_CMD_DISCONNECT, 0, (uint32_t) len);
    mg_send(c, &reason, 1);
    mqtt_send_props(c, opts->props, n);
  } else {
    mg_mqtt_send_header(c, MQTT_CMD_DISCONNECT, 0, 0);
  }
}

// An acknowledgement: PUBACK, PUBREC, PUBREL (flags 2), PUBCOMP
static void send_ack(struct mg_connection *c, uint8_t cmd, uint16_t id) {
  mg_mqtt_send_header(c, cmd, cmd == MQTT_CMD_PUBREL ? 2 : 0, 2);
  send_u16(c, id);
}

// ---- Protocol handler ---------------------------------------------------------------
// QoS 2 publishes received and not yet released (their ids)
static bool qos2_seen(struct mqtt_state *st, uint16_t id) {
  size_t i;
  for (i = 0; i < st->nqos2; i++) {
    if (st->qos2[i] == id) return true;
  }
  return false;
}

static void qos2_add(struct mqtt_state *st, uint16_t id) {
  if (st->nqos2 == MQTT_QOS2_MAX) {  // forget the oldest
    memmove(st->qos2, st->qos2 + 1, (MQTT_QOS2_MAX - 1) * sizeof(st->qos2[0]));
    st->nqos2--;
  }
  st->qos2[st->nqos2++] = id;
}

static void qos2_del(struct mqtt_state *st, uint16_t id) {
  size_t i;
  for (i = 0; i < st->nqos2; i++) {
    if (st->qos2[i] == id) {
      st->qos2[i] = st->qos2[--st->nqos2];
      return;
    }
  }
}

// The protocol level of a CONNECT packet (0 if unreadable)
static uint8_t connect_level(const struct mg_mqtt_message *m) {
  const uint8_t *p = (const uint8_t *) m->data.buf;
  size_t n;
  if (m->data.len < 2) return 0;
  n = (size_t) p[0] << 8 | p[1];
  return m->data.len > n + 2 ? p[n + 2] : 0;
}

static void deliver(struct mg_connection *c, struct mqtt_state *st,
                    struct mg_mqtt_message *m) {
  if (st->broker != NULL) mqtt_broker_publish(c, st, m);
  if (!c->is_closing) mg_call(c, MG_EV_MQTT_MSG, m);
}

static void mqtt_packet(struct mg_connection *c, struct mqtt_state *st,
                        struct mg_mqtt_message *m) {
  if (m->cmd == MQTT_CMD_CONNECT && c->is_accepted) {
    c->is_mqtt5 = connect_level(m) == 5;
  }
  if (st->broker != NULL && !mqtt_broker_packet(c, st, m)) return;
  mg_call(c, MG_EV_MQTT_CMD, m);
  if (c->is_closing) return;
  switch (m->cmd) {
    case MQTT_CMD_CONNACK: {
      int code = m->ack;
      struct mg_mqtt_prop prop;
      size_t ofs = 0;
      while ((ofs = mg_mqtt_next_prop(m, &prop, ofs)) > 0) {
        // MQTT 5 3.2.2.3.14: the server's keepalive replaces ours
        if (prop.id == MQTT_PROP_SERVER_KEEP_ALIVE && st->timer != NULL) {
          uint64_t period = (uint64_t) prop.iv * 1000 / 4;
          st->keepalive = (uint16_t) prop.iv;
          st->timer->period_ms = period < 250 ? 250 : period;
          st->timer->expire = mg_millis() + st->timer->period_ms;
        }
      }
      if (c->is_client) mg_call(c, MG_EV_MQTT_OPEN, &code);
      if (code != 0 && c->is_client) mg_error(c, "MQTT CONNACK error %d", code);
      break;
    }
    case MQTT_CMD_PUBLISH:
      if (m->qos == 2) {
        bool dup = qos2_seen(st, m->id);
        if (!dup) qos2_add(st, m->id);
        send_ack(c, MQTT_CMD_PUBREC, m->id);
        if (!dup) deliver(c, st, m);
      } else {
        deliver(c, st, m);
        if (m->qos == 1 && !c->is_closing) send_ack(c, MQTT_CMD_PUBACK, m->id);
      }
      break;
    case MQTT_CMD_PUBREC:
      send_ack(c, MQTT_CMD_PUBREL, m->id);
      break;
    case MQTT_CMD_PUBREL:
      qos2_del(st, m->id);
      send_ack(c, MQTT_CMD_PUBCOMP, m->id);
      break;
    case MQTT_CMD_PINGREQ:
      if (c->is_accepted) mg_mqtt_pong(c);
      break;
    default:
      break;
  }
}

static void mqtt_read(struct mg_connection *c, struct mqtt_state *st) {
  size_t ofs = 0;
  while (!c->is_closing && !c->is_draining && ofs < c->recv.len) {
    struct mg_mqtt_message m;
    int rc = mg_mqtt_parse(c->recv.buf + ofs, c->recv.len - ofs,
                           c->is_mqtt5 ? 5 : 4, &m);
    if (rc == MQTT_INCOMPLETE) break;
    if (rc == MQTT_MALFORMED) {
      mg_error(c, "malformed MQTT packet");
      break;
    }
    st->last_rx = mg_millis();
    ofs += m.dgram.len;
    mqtt_packet(c, st, &m);
  }
  if (ofs > 0 && !c->is_closing) mg_iobuf_del(&c->recv, 0, ofs);
}

// Client keepalive (3.1.2.10): a PINGREQ when nothing was sent for half the
// keepalive; the connection is dropped when nothing came for twice it.
static void mqtt_timer(void *arg) {
  struct mg_connection *c = (struct mg_connection *) arg;
  struct mqtt_state *st = mqtt_state(c);
  uint64_t now = mg_millis(), ka;
  if (st == NULL || st->keepalive == 0 || c->is_connecting || c->is_closing) {
    return;
  }
  ka = (uint64_t) st->keepalive * 1000;
  if (now - st->last_rx > 2 * ka) {
    mg_error(c, "MQTT keepalive timeout");
  } else if (now - st->last_tx >= ka / 2) {
    mg_mqtt_ping(c);
  }
}

void mqtt_ev(struct mg_connection *c, int ev, void *ev_data) {
  struct mqtt_state *st = (struct mqtt_state *) c->pfn_data;
  if (ev == MG_EV_OPEN && c->is_accepted) {
    // pfn_data is the listener's: a broker, or NULL
    struct mqtt_state *s = (struct mqtt_state *) calloc(1, sizeof(*s));
    if (s == NULL) {
      mg_error(c, "out of memory");
      c->pfn = NULL;
      c->pfn_data = NULL;
      return;
    }
    s->broker = (struct mqtt_broker *) c->pfn_data;
    s->last_rx = s->last_tx = mg_millis();
    c->pfn_data = s;
  } else if (c->is_listening) {
    if (ev == MG_EV_CLOSE && st != NULL) mqtt_broker_free(c);
  } else if (st == NULL) {
    return;
  } else if (ev == MG_EV_READ) {
    mqtt_read(c, st);
  } else if (ev == MG_EV_CONNECT) {
    st->last_rx = st->last_tx = mg_millis();
  } else if (ev == MG_EV_CLOSE) {
    if (st->broker != NULL) mqtt_broker_closed(c, st);
    if (st->timer != NULL) mg_timer_free(&c->mgr->timers, st->timer);
    free(st);
    c->pfn_data = NULL;
  }
  (void) ev_data;
}

struct mg_connection *mg_mqtt_connect(struct mg_mgr *mgr, const char *url,
                                      const struct mg_mqtt_opts *opts,
                                      mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = mg_connect(mgr, url, fn, fn_data);
  struct mqtt_state *st;
  if (c == NULL || c->is_closing) return c;
  if ((st = (struct mqtt_state *) calloc(1, sizeof(*st))) == NULL) {
    mg_error(c, "out of memory");
    return c;
  }
  st->last_rx = st->last_tx = mg_millis();
  c->pfn = mqtt_ev;
  c->pfn_data = st;
  if (opts != NULL) {
    mg_mqtt_login(c, opts);  // queued: sent once connected
    if (opts->keepalive > 0) {
      uint64_t period = (uint64_t) opts->keepalive * 1000 / 4;
      st->timer = mg_timer_add(mgr, period < 250 ? 250 : period,
                               MG_TIMER_REPEAT, mqtt_timer, c);
    }
  }
  return c;
}

struct mg_connection *mg_mqtt_listen(struct mg_mgr *mgr, const char *url,
                                     mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = mg_listen(mgr, url, fn, fn_data);
  if (c != NULL) {
    c->pfn = mqtt_ev;
    c->pfn_data = NULL;
  }
  return c;
}
