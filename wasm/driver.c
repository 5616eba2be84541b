// WebAssembly network driver and exported ABI (see wasm/ABI.md).
// The host (src/host/*.ts) owns the sockets; this file turns its calls into
// core events and the core's output into host calls.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define IMPORT(name) \
  __attribute__((import_module("mgw_host"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("listen")
int host_listen(struct mg_connection *c, const char *url, const char *host,
                int hlen, int port, int flags);
IMPORT("connect")
int host_connect(struct mg_connection *c, const char *host, int hlen, int port,
                 int flags);
IMPORT("write") int host_write(int hid, const void *buf, int len);
IMPORT("close") void host_close(int hid);
IMPORT("pause") void host_pause(int hid, int paused);
IMPORT("event")
void host_event(struct mg_connection *c, int ev, void *ev_data, int h);
IMPORT("timer") void host_timer(int tid);
IMPORT("now") double host_now(void);
IMPORT("wallclock") double host_wallclock(void);
IMPORT("log") void host_log(const char *buf, int len);

#define HID(c) ((int) (intptr_t) (c)->fd)

static struct mg_mgr s_mgr;
static int s_depth;                 // nesting of export calls
static unsigned char *s_buf;        // staging buffer shared with the host
static size_t s_buf_size;
static uint32_t *s_masks;           // event mask of each JS handler id
static size_t s_nmasks;

uint64_t mg_millis(void) {
  return (uint64_t) host_now();
}

uint64_t mg_now(void) {
  return (uint64_t) host_wallclock();
}

// Log lines are collected and handed to the host whole
static void log_char(char ch, void *arg) {
  static char line[512];
  static size_t len;
  (void) arg;
  if (ch != '\n' && len < sizeof(line)) line[len++] = ch;
  if (ch == '\n' || len == sizeof(line)) {
    host_log(line, (int) len);
    len = 0;
  }
}

void mg_drv_init(struct mg_mgr *mgr) {
  (void) mgr;
  mg_log_set_fn(log_char, NULL);
}

void mg_drv_free(struct mg_mgr *mgr) {
  (void) mgr;
}

static int url_flags(struct mg_connection *c) {
  return (c->is_udp ? 1 : 0) | (c->is_tls ? 2 : 0);
}

bool mg_drv_listen(struct mg_connection *c, const char *url) {
  struct mg_str host = mg_url_host(url);
  int hid = host_listen(c, url, host.buf, (int) host.len, mg_url_port(url),
                        url_flags(c));
  if (hid <= 0) return false;
  c->fd = (void *) (intptr_t) hid;
  return true;
}

void mg_drv_connect(struct mg_connection *c, const char *url) {
  struct mg_str host = mg_url_host(url);
  int hid = host_connect(c, host.buf, (int) host.len, mg_url_port(url),
                         url_flags(c));
  if (hid <= 0) return mg_error(c, "cannot connect to %s", url);
  c->fd = (void *) (intptr_t) hid;
  c->is_connecting = 1;
}

void mg_drv_close(struct mg_connection *c) {
  if (c->fd != NULL) host_close(HID(c));
  c->fd = NULL;
}

void mgw_udp_flush(struct mg_connection *c);  // wasm/net_extra.c

void mg_drv_flush(struct mg_connection *c) {
  if (c->is_udp && c->is_listening) return mgw_udp_flush(c);  // to c->rem
  size_t len = c->send.len < 0x40000000 ? c->send.len : 0x40000000;  // fits int
  int n = host_write(HID(c), c->send.buf, (int) len);
  if (n > 0) {
    mg_io_sent(c, (size_t) n);
  } else if (n < 0) {
    c->is_closing = 1;
  }
}

void mg_drv_pause(struct mg_connection *c, bool paused) {
  host_pause(HID(c), paused);
}

static int next_timer(void) {
  uint64_t now = mg_millis(), min = UINT64_MAX;
  struct mg_timer *t;
  for (t = s_mgr.timers; t != NULL; t = t->next) {
    if (t->expire < min) min = t->expire;
  }
  if (min == UINT64_MAX) return -1;
  return min <= now ? 0 : (int) (min - now);
}

void mg_mgr_poll(struct mg_mgr *mgr, int ms) {
  uint64_t now = mg_millis();
  struct mg_connection *c, *next;
  (void) ms;  // the host's event loop does the waiting
  mg_timer_poll(&mgr->timers, now);
  for (c = mgr->conns; c != NULL; c = next) {
    next = c->next;
    mg_call(c, MG_EV_POLL, &now);
    mg_io_check(c);
  }
}

// ---- Exports ------------------------------------------------------------------
// Every export that can fire events runs inside ENTER/LEAVE: the I/O turn is
// finished (flush, resume, close) only when the outermost call returns, so a
// JS handler calling back into C never sees a connection freed under it.
// The depth stays raised while finishing: handlers run by the finish pass
// (a resumed parser) call exports too and must not start a nested pass.
#define ENTER() s_depth++
#define LEAVE()                                 \
  do {                                          \
    if (s_depth == 1) mg_io_finish(&s_mgr);     \
    s_depth--;                                  \
  } while (0)

// The same, for the exports in the other wasm/*.c files
void mgw_enter(void) {
  ENTER();
}
void mgw_leave(void) {
  LEAVE();
}

bool mgw_hdrs_wanted(size_t h, struct mg_http_message *hm);  // wasm/http_body.c

// Events of connections owned by a JS handler cross into the host
static void js_handler(struct mg_connection *c, int ev, void *ev_data) {
  size_t h = (size_t) (uintptr_t) c->fn_data;
  uint32_t m = h < s_nmasks ? s_masks[h] : 0;
  // Events past bit 31 (user events) reach only handlers that take every event
  if (ev >= 0 && (ev < 32 ? (m >> ev) & 1U : m == UINT32_MAX)) {
    if (ev == MG_EV_HTTP_HDRS && !mgw_hdrs_wanted(h, (struct mg_http_message *) ev_data)) return;
    host_event(c, ev, ev_data, (int) h);
  }
}

static void set_handler(struct mg_connection *c, int h, int mask) {
  (void) c;
  if ((size_t) h >= s_nmasks) {
    size_t n = (size_t) h + 16;
    uint32_t *p = (uint32_t *) realloc(s_masks, n * sizeof(*p));
    if (p == NULL) return;
    memset(p + s_nmasks, 0, (n - s_nmasks) * sizeof(*p));
    s_masks = p;
    s_nmasks = n;
  }
  s_masks[h] = (uint32_t) mask | (1UL << MG_EV_CLOSE);  // host needs CLOSE
}

// Changes the events that cross to the JS handler of c (every connection of
// that handler: for a listener, those it accepted); returns the handler id,
// 0 if c has none
EXPORT("mgw_set_mask") int mgw_set_mask(struct mg_connection *c, int mask) {
  size_t h = (size_t) (uintptr_t) c->fn_data;
  if (c->fn != js_handler || h == 0) return 0;
  set_handler(NULL, (int) h, mask);
  return (int) h;
}

EXPORT("mgw_init") void mgw_init(void) {
  mg_mgr_init(&s_mgr);
}

EXPORT("mgw_buf") unsigned char *mgw_buf(int size) {
  if ((size_t) size > s_buf_size) {
    size_t n = (size_t) size < 65536 ? 65536 : (size_t) size;
    unsigned char *p = (unsigned char *) realloc(s_buf, n);
    if (p == NULL) return NULL;
    s_buf = p;
    s_buf_size = n;
  }
  return s_buf;
}

typedef struct mg_connection *(*opener_t)(struct mg_mgr *, const char *,
                                          mg_event_handler_t, void *);

// Copies the URL out of the staging buffer, which may be reused while we run
static bool copy_url(const char *url, char *copy, size_t size) {
  size_t len = strlen(url);
  if (len >= size) return false;
  memcpy(copy, url, len + 1);
  return true;
}

static struct mg_connection *open_conn(opener_t fn, const char *url, int h,
                                       int mask) {
  char copy[512];
  struct mg_connection *c;
  if (!copy_url(url, copy, sizeof(copy))) return NULL;
  if (h > 0) set_handler(NULL, h, mask);
  ENTER();
  c = fn(&s_mgr, copy, h > 0 ? js_handler : NULL, (void *) (uintptr_t) h);
  LEAVE();
  return c;
}

// For the exports of the other wasm/*.c files (ENTER/LEAVE and open_conn)
struct mg_mgr *mgw_mgr(void) {
  return &s_mgr;
}
struct mg_connection *mgw_open(opener_t fn, const char *url, int h, int mask) {
  return open_conn(fn, url, h, mask);
}

EXPORT("mgw_listen")
struct mg_connection *mgw_listen(const char *url, int http, int h, int mask) {
  return open_conn(http ? mg_http_listen : mg_listen, url, h, mask);
}

EXPORT("mgw_connect")
struct mg_connection *mgw_connect(const char *url, int http, int h, int mask) {
  return open_conn(http ? mg_http_connect : mg_connect, url, h, mask);
}

// "ip:port" or "[ip6]:port" into an address
static void parse_addr(const char *s, struct mg_addr *a) {
  const char *colon = strrchr(s, ':');
  struct mg_str ip = mg_str(s);
  memset(a, 0, sizeof(*a));
  if (colon == NULL) return;
  ip.len = (size_t) (colon - s);
  if (ip.len >= 2 && ip.buf[0] == '[') ip.buf++, ip.len -= 2;
  mg_aton(ip, a);
  a->port = mg_htons((uint16_t) atoi(colon + 1));
}

EXPORT("mgw_accept")
struct mg_connection *mgw_accept(struct mg_connection *lsn, int hid,
                                 const char *addrs) {
  struct mg_addr rem, loc;
  struct mg_connection *c;
  parse_addr(addrs, &rem);
  parse_addr(addrs + strlen(addrs) + 1, &loc);
  ENTER();
  c = mg_io_accept(lsn, (void *) (intptr_t) hid, &loc, &rem);
  LEAVE();
  return c;
}

EXPORT("mgw_connected")
void mgw_connected(struct mg_connection *c, int ok, const char *addrs) {
  ENTER();
  if (ok) {
    parse_addr(addrs, &c->loc);
    parse_addr(addrs + strlen(addrs) + 1, &c->rem);
    mg_io_connected(c, NULL);
  } else {
    mg_io_connected(c, addrs != NULL && *addrs ? addrs : "connect failed");
  }
  LEAVE();
}

EXPORT("mgw_recv") void mgw_recv(struct mg_connection *c, int len) {
  ENTER();
  mg_io_recv(c, s_buf, (size_t) len);
  LEAVE();
}

EXPORT("mgw_eof") void mgw_eof(struct mg_connection *c) {
  ENTER();
  mg_io_eof(c);
  LEAVE();
}

EXPORT("mgw_closed") void mgw_closed(struct mg_connection *c, int err) {
  ENTER();
  c->fd = NULL;  // the host socket is already gone
  if (err) {       // e.g. a reset by the peer: routine, so not logged as error
    MG_DEBUG(("%lu %s", c->id, (char *) s_buf));
    mg_call(c, MG_EV_ERROR, s_buf);
  }
  c->is_closing = 1;
  mg_io_check(c);
  LEAVE();
}

EXPORT("mgw_writable") void mgw_writable(struct mg_connection *c) {
  ENTER();
  mg_io_check(c);
  LEAVE();
}

EXPORT("mgw_poll") int mgw_poll(int ms) {
  ENTER();
  mg_mgr_poll(&s_mgr, ms);
  LEAVE();
  return next_timer();
}

EXPORT("mgw_send") int mgw_send(struct mg_connection *c, const void *p, int n) {
  bool ok;
  ENTER();
  ok = mg_send(c, p, (size_t) n);
  LEAVE();
  return ok;
}

EXPORT("mgw_http_reply")
void mgw_http_reply(struct mg_connection *c, int status, const char *hdrs,
                    int hlen, const void *body, int blen) {
  ENTER();
  mg_http_reply_raw(c, status, hdrs, (size_t) hlen, body, (size_t) blen);
  LEAVE();
}

EXPORT("mgw_close") void mgw_close(struct mg_connection *c) {
  ENTER();
  c->is_closing = 1;
  mg_io_check(c);
  LEAVE();
}

EXPORT("mgw_drain") void mgw_drain(struct mg_connection *c) {
  ENTER();
  c->is_draining = 1;
  mg_io_check(c);
  LEAVE();
}

EXPORT("mgw_set_full") void mgw_set_full(struct mg_connection *c, int on) {
  ENTER();
  c->is_full = on ? 1 : 0;
  mg_io_check(c);
  LEAVE();
}

EXPORT("mgw_info") int mgw_info(struct mg_connection *c, int what) {
  switch (what) {
    case 0:
      return (int) c->id;
    case 1:
      return c->is_listening | c->is_client << 1 | c->is_accepted << 2 |
             c->is_closing << 3 | c->is_draining << 4 | c->is_full << 5 |
             c->is_resp << 6 | c->is_websocket << 7 | c->is_udp << 8 |
             c->is_tls << 9 | c->is_eof << 10;
    case 2:
      return (int) c->recv.len;
    case 3:
      return (int) c->send.len;
    default:
      return -1;
  }
}

EXPORT("mgw_addr") int mgw_addr(struct mg_connection *c, int remote) {
  mgw_buf(64);
  return (int) mg_snprintf((char *) s_buf, 64, "%M", mg_print_ip_port,
                           remote ? &c->rem : &c->loc);
}

static void timer_fn(void *arg) {
  host_timer((int) (intptr_t) arg);
}

EXPORT("mgw_timer_add")
struct mg_timer *mgw_timer_add(double ms, int flags, int tid) {
  return mg_timer_add(&s_mgr, (uint64_t) ms, (unsigned) flags, timer_fn,
                      (void *) (intptr_t) tid);
}

EXPORT("mgw_timer_free") void mgw_timer_free(struct mg_timer *t) {
  mg_timer_free(&s_mgr.timers, t);
}

EXPORT("mgw_log_set") void mgw_log_set(int level) {
  mg_log_set(level);
}

EXPORT("mgw_get_var")
int mgw_get_var(const char *buf, int blen, const char *name, char *dst,
                int dlen) {
  struct mg_str s = mg_str_n(buf, (size_t) blen);
  return mg_http_get_var(&s, name, dst, (size_t) dlen);
}

// ---- WebSocket exports --------------------------------------------------------
EXPORT("mgw_ws_upgrade")
void mgw_ws_upgrade(struct mg_connection *c, struct mg_http_message *hm,
                    const char *hdrs, int hlen) {
  ENTER();
  mg_ws_upgrade(c, hm, hlen > 0 ? "%.*s" : NULL, hlen, hdrs);
  LEAVE();
}

EXPORT("mgw_ws_connect")
struct mg_connection *mgw_ws_connect(const char *url, int h, int mask,
                                     const char *hdrs, int hlen) {
  char copy[512];
  struct mg_connection *c;
  if (!copy_url(url, copy, sizeof(copy))) return NULL;
  if (h > 0) set_handler(NULL, h, mask);
  ENTER();
  c = mg_ws_connect(&s_mgr, copy, h > 0 ? js_handler : NULL,
                    (void *) (uintptr_t) h, hlen > 0 ? "%.*s" : NULL, hlen,
                    hdrs);
  LEAVE();
  return c;
}

EXPORT("mgw_ws_send")
int mgw_ws_send(struct mg_connection *c, const void *p, int n, int op) {
  size_t r;
  ENTER();
  r = mg_ws_send(c, p, (size_t) n, op);
  LEAVE();
  return (int) r;
}

EXPORT("mgw_ws_frame")
int mgw_ws_frame(struct mg_connection *c, const void *p, int n, int op,
                 int fin) {
  size_t r;
  ENTER();
  r = mg_ws_send_frame(c, p, (size_t) n, op, fin != 0);
  LEAVE();
  return (int) r;
}

EXPORT("mgw_ws_close")
void mgw_ws_close(struct mg_connection *c, int code, const char *reason,
                  int rlen) {
  ENTER();
  mg_ws_close(c, (uint16_t) code, reason, (size_t) rlen);
  LEAVE();
}

// ---- For the export files of other modules (wasm/<area>.c) ---------------------
// The C handler that forwards events of JS handler id h (events in mask, -1
// all) to the host; NULL for h <= 0 (a C-only connection)
mg_event_handler_t mgw_js_handler(int h, int mask) {
  if (h <= 0) return NULL;
  set_handler(NULL, h, mask);
  return js_handler;
}
