// SNTP client (RFC 4330; packet format of RFC 5905 section 7.3).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define SNTP_PACKET 48
#define SNTP_UNIX_OFFSET 2208988800ULL  // seconds from 1900 to 1970
#define SNTP_MODE_CLIENT 3
#define SNTP_MODE_SERVER 4
#define SNTP_MODE_BROADCAST 5

// Per-connection state, owned by the connection (freed at MG_EV_CLOSE)
struct sntp_state {
  uint8_t sent[8];   // transmit timestamp of our last request (NTP format)
  uint64_t sent_ms;  // wall clock when it was sent
  bool pending;      // a request waits for MG_EV_CONNECT
};

static uint32_t get32(const unsigned char *p) {
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
         (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char) (v >> 24);
  p[1] = (unsigned char) (v >> 16);
  p[2] = (unsigned char) (v >> 8);
  p[3] = (unsigned char) v;
}

// NTP timestamp -> Unix milliseconds. Seconds with the top bit clear are
// taken as era 1 (from 2036 on), as RFC 4330 section 3 suggests.
static int64_t ntp_to_ms(const unsigned char *p) {
  uint64_t sec = get32(p), frac = get32(p + 4);
  if ((sec & 0x80000000UL) == 0) sec += 0x100000000ULL;
  return (int64_t) ((sec - SNTP_UNIX_OFFSET) * 1000ULL +
                    ((frac * 1000ULL) >> 32));
}

static void ms_to_ntp(uint64_t ms, unsigned char *p) {
  uint64_t sec = ms / 1000 + SNTP_UNIX_OFFSET;
  uint64_t frac = ((ms % 1000) << 32) / 1000;
  put32(p, (uint32_t) sec);  // wraps into era 1 after 2036, as it should
  put32(p + 4, (uint32_t) frac);
}

int mg_sntp_parse(const unsigned char *buf, size_t len, uint64_t t1_ms,
                  uint64_t t4_ms, uint64_t *epoch_ms, const char **err) {
  static const char *const msgs[] = {
      "SNTP: short packet", "SNTP: not a server reply",
      "SNTP: bad version", "SNTP: zero transmit time",
      "SNTP: server not synchronised", "SNTP: kiss-o'-death",
      "SNTP: bad stratum"};
  unsigned li, vn, mode, stratum;
  int64_t t2, t3, t;
  const char *e = NULL;
  int rc = -1;
  if (len < SNTP_PACKET) {
    e = msgs[0];
  } else {
    li = buf[0] >> 6;
    vn = (buf[0] >> 3) & 7;
    mode = buf[0] & 7;
    stratum = buf[1];
    if (mode != SNTP_MODE_SERVER && mode != SNTP_MODE_BROADCAST) {
      e = msgs[1];
    } else if (vn < 1 || vn > 4) {
      e = msgs[2];
    } else if (stratum == 0) {
      e = msgs[5], rc = -2;  // the reference id holds the kiss code
    } else if (li == 3) {
      e = msgs[4], rc = -2;
    } else if (stratum > 15) {
      e = msgs[6], rc = -2;
    } else if (get32(buf + 40) == 0 && get32(buf + 44) == 0) {
      e = msgs[3];
    }
  }
  if (e != NULL) {
    if (err != NULL) *err = e;
    return rc;
  }
  t3 = ntp_to_ms(buf + 40);
  t2 = get32(buf + 32) == 0 && get32(buf + 36) == 0 ? t3 : ntp_to_ms(buf + 32);
  if (t1_ms == 0 || t4_ms < t1_ms) {
    t = t3;  // no round trip known
  } else {
    // offset = ((T2 - T1) + (T3 - T4)) / 2; time = T4 + offset
    t = (int64_t) t4_ms +
        ((t2 - (int64_t) t1_ms) + (t3 - (int64_t) t4_ms)) / 2;
  }
  *epoch_ms = t < 0 ? 0 : (uint64_t) t;
  if (err != NULL) *err = NULL;
  return 0;
}

static void send_request(struct mg_connection *c, struct sntp_state *st) {
  unsigned char pkt[SNTP_PACKET];
  memset(pkt, 0, sizeof(pkt));
  pkt[0] = (4 << 3) | SNTP_MODE_CLIENT;  // LI 0, version 4, client
  st->sent_ms = mg_now();
  ms_to_ntp(st->sent_ms, pkt + 40);  // echoed back as the originate time
  memcpy(st->sent, pkt + 40, 8);
  st->pending = false;
  mg_send(c, pkt, sizeof(pkt));
}

static void sntp_cb(struct mg_connection *c, int ev, void *ev_data) {
  struct sntp_state *st = (struct sntp_state *) c->pfn_data;
  (void) ev_data;
  if (st == NULL) return;
  if (ev == MG_EV_CONNECT) {
    if (st->pending) send_request(c, st);
  } else if (ev == MG_EV_READ) {
    const unsigned char *p = c->recv.buf;
    size_t len = c->recv.len;
    uint64_t ms = 0, now = mg_now();
    const char *err = NULL;
    if (st->sent_ms == 0) {
      MG_DEBUG(("%lu SNTP: no request outstanding, ignored", c->id));
    } else if (len >= SNTP_PACKET && memcmp(p + 24, st->sent, 8) != 0) {
      MG_DEBUG(("%lu SNTP: reply to another request, ignored", c->id));
    } else if (mg_sntp_parse(p, len, st->sent_ms, now, &ms, &err) == 0) {
      st->sent_ms = 0;  // answered: a duplicate reply is bogus
      mg_call(c, MG_EV_SNTP_TIME, &ms);
    } else {
      mg_error(c, "%s", err);
    }
    c->recv.len = 0;
  } else if (ev == MG_EV_CLOSE) {
    free(st);
    c->pfn_data = NULL;
  }
}

struct mg_connection *mg_sntp_connect(struct mg_mgr *mgr, const char *url,
                                      mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c;
  struct sntp_state *st =
      (struct sntp_state *) calloc(1, sizeof(struct sntp_state));
  if (st == NULL) return NULL;
  if (url == NULL) url = MG_SNTP_DEFAULT_URL;
  c = mg_connect(mgr, url, fn, fn_data);
  if (c == NULL) {
    free(st);
    return NULL;
  }
  c->pfn = sntp_cb;
  c->pfn_data = st;
  return c;
}

void mg_sntp_request(struct mg_connection *c) {
  struct sntp_state *st = (struct sntp_state *) c->pfn_data;
  if (c->pfn != sntp_cb || st == NULL || c->is_closing) return;
  if (c->is_resolving || c->is_connecting || c->fd == NULL) {
    st->pending = true;  // sent at MG_EV_CONNECT
  } else {
    send_request(c, st);
  }
}
