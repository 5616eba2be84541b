// WebAssembly exports and imports for UDP datagrams, c->recv access, DNS
// resolution, SNTP and wakeup (see wasm/ABI.md).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define IMPORT(name) \
  __attribute__((import_module("mgw_host"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("sendto")
int host_sendto(int hid, const void *buf, int len, const struct mg_addr *to);
IMPORT("resolve")
void host_resolve(struct mg_connection *c, int id, const char *host, int hlen);

// From wasm/driver.c
typedef struct mg_connection *(*opener_t)(struct mg_mgr *, const char *,
                                          mg_event_handler_t, void *);
struct mg_mgr *mgw_mgr(void);
void mgw_enter(void);
void mgw_leave(void);
struct mg_connection *mgw_open(opener_t fn, const char *url, int h, int mask);
unsigned char *mgw_buf(int size);

// The host reads struct mg_addr at these offsets
_Static_assert(offsetof(struct mg_addr, port) == 16, "mg_addr.port");
_Static_assert(offsetof(struct mg_addr, is_ip6) == 19, "mg_addr.is_ip6");
_Static_assert(offsetof(struct mg_iobuf, len) == 8, "mg_iobuf.len");

#define HID(c) ((int) (intptr_t) (c)->fd)

// A UDP listener's output: one datagram to the last sender (c->rem)
void mgw_udp_flush(struct mg_connection *c) {
  int n;
  if (c->send.len == 0) return;
  n = host_sendto(HID(c), c->send.buf, (int) c->send.len, &c->rem);
  if (n > 0) mg_io_sent(c, (size_t) n);
}

// "ip:port" or "[ip6]:port" into an address
static bool parse_addr(const char *s, struct mg_addr *a) {
  const char *colon = strrchr(s, ':');
  struct mg_str ip = mg_str(s);
  unsigned long port;
  memset(a, 0, sizeof(*a));
  if (colon == NULL) return false;
  ip.len = (size_t) (colon - s);
  port = strtoul(colon + 1, NULL, 10);
  a->port = mg_htons((uint16_t) port);
  return mg_aton(ip, a);
}

// Is c a live connection of the manager?
static bool is_live(struct mg_connection *c, unsigned long id) {
  struct mg_connection *p;
  for (p = mgw_mgr()->conns; p != NULL; p = p->next) {
    if (p == c) return p->id == id;
  }
  return false;
}

// A datagram of len bytes is at the staging buffer; for a listener the
// sender's "ip:port" follows at addr_off (NUL-terminated; -1: none).
EXPORT("mgw_dgram") void mgw_dgram(struct mg_connection *c, int len, int addr_off) {
  unsigned char *buf = mgw_buf(0);
  struct mg_addr a;
  mgw_enter();
  if (addr_off >= 0 && parse_addr((const char *) buf + addr_off, &a)) c->rem = a;
  mg_io_recv(c, buf, (size_t) len);  // an empty datagram fires nothing
  mgw_leave();
}

// ---- c->recv ------------------------------------------------------------------
EXPORT("mgw_iobuf")
struct mg_iobuf *mgw_iobuf(struct mg_connection *c, int send) {
  return send ? &c->send : &c->recv;
}

EXPORT("mgw_consume") int mgw_consume(struct mg_connection *c, int n) {
  if (n <= 0) return (int) c->recv.len;
  mg_iobuf_del(&c->recv, 0, (size_t) n);
  return (int) c->recv.len;
}

// ---- DNS ------------------------------------------------------------------------
void mg_drv_resolve(struct mg_connection *c, struct mg_str host) {
  host_resolve(c, (int) c->id, host.buf, (int) host.len);
}

EXPORT("mgw_resolve") void mgw_resolve(struct mg_connection *c, const char *url) {
  char copy[512];
  size_t len = strlen(url);
  if (len >= sizeof(copy)) return;
  memcpy(copy, url, len + 1);
  mgw_enter();
  mg_resolve(c, copy);
  mgw_leave();
}

EXPORT("mgw_resolve_cancel") void mgw_resolve_cancel(struct mg_connection *c) {
  mg_resolve_cancel(c);
}

// Outcome of the host's resolve(c, id, ...): the address ("ip:0" form is
// fine) or, when ok is 0, an error message, at res (NUL-terminated).
EXPORT("mgw_resolved")
void mgw_resolved(struct mg_connection *c, int id, int ok, const char *res) {
  struct mg_addr a;
  if (!is_live(c, (unsigned long) id)) return;  // gone meanwhile
  mgw_enter();
  if (!ok) {
    mg_io_resolved(c, NULL, res);
  } else if (mg_aton(mg_str(res), &a)) {
    mg_io_resolved(c, &a, NULL);
  } else {
    mg_io_resolved(c, NULL, "bad address");
  }
  mgw_leave();
}

// ---- SNTP -----------------------------------------------------------------------
EXPORT("mgw_sntp_connect")
struct mg_connection *mgw_sntp_connect(const char *url, int h, int mask) {
  return mgw_open(mg_sntp_connect, *url == '\0' ? MG_SNTP_DEFAULT_URL : url, h,
                  mask);
}

EXPORT("mgw_sntp_request") void mgw_sntp_request(struct mg_connection *c) {
  mgw_enter();
  mg_sntp_request(c);
  mgw_leave();
}

// ---- Wakeup ---------------------------------------------------------------------
EXPORT("mgw_wakeup") int mgw_wakeup(int id, const void *buf, int len) {
  bool ok;
  mgw_enter();
  ok = mg_wakeup(mgw_mgr(), (unsigned long) (unsigned) id, buf, (size_t) len);
  mgw_leave();
  return ok;
}
