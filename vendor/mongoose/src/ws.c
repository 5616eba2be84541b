// wasmgoose — WebSocket (RFC 6455): handshake, framing, fragmentation, close.
// Written from RFC 6455 and the API in MONGOOSE_API.md.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_FIN 0x80

// UTF-8 check that can stop and resume at any byte (RFC 3629; Unicode table
// 3-7: no overlongs, no surrogates, nothing above U+10FFFF)
struct utf8 {
  uint8_t need;    // continuation bytes still expected
  uint8_t lo, hi;  // allowed range of the next one
};

// Protocol state, on c->pfn_data. The input in c->recv is laid out as
//   [0, start) consumed | [start, start + len) the message so far |
//   [start + len, pos) consumed | [pos, recv.len) not parsed yet
// Data frame payloads are unmasked in place and moved together behind the
// message so far; consumed bytes go at the end of each read (start is then 0).
struct ws {
  size_t start, len;
  uint64_t left;       // payload bytes of the current data frame still to come
  uint8_t op;          // opcode of the message in progress, 0: none
  uint8_t mask[4];     // masking key of the current data frame
  uint8_t mpos;        // its payload bytes unmasked so far, mod 4
  struct utf8 u8;      // TEXT: the message's UTF-8 check so far
  unsigned in_frame : 1;    // inside the payload of a data frame
  unsigned fin : 1;         // that frame ends the message
  unsigned masked : 1;      // that frame is masked
  unsigned is_client : 1;   // we are the client: our frames are masked
  unsigned is_open : 1;     // handshake done (a client waits for the 101)
  unsigned close_sent : 1;  // our CLOSE went out: send nothing more
  char accept[29];          // client: the Sec-WebSocket-Accept expected
};

// A frame header, as parsed
struct ws_hdr {
  uint64_t len;
  uint8_t op, fin, masked, mask[4];
};

static void ws_ev(struct mg_connection *c, int ev, void *ev_data);

static struct ws *ws_state(struct mg_connection *c) {
  return c->pfn == ws_ev ? (struct ws *) c->pfn_data : NULL;
}

// ---- Helpers ------------------------------------------------------------------------
static bool utf8_more(struct utf8 *u, const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t ch = s[i++];
    if (u->need > 0) {
      if (ch < u->lo || ch > u->hi) return false;
      u->need--, u->lo = 0x80, u->hi = 0xbf;
    } else if (ch >= 0x80) {
      if (ch < 0xc2 || ch > 0xf4) return false;
      u->need = ch < 0xe0 ? 1 : ch < 0xf0 ? 2 : 3;
      u->lo = ch == 0xe0 ? 0xa0 : ch == 0xf0 ? 0x90 : 0x80;
      u->hi = ch == 0xed ? 0x9f : ch == 0xf4 ? 0x8f : 0xbf;
    } else {  // ASCII: skip whole words of it
      uint64_t w;
      while (i + 8 <= n && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ULL) == 0)) {
        i += 8;
      }
    }
  }
  return true;
}

static bool utf8_valid(const uint8_t *s, size_t n) {
  struct utf8 u = {0, 0, 0};
  return utf8_more(&u, s, n) && u.need == 0;
}

// XORs p[0..n) with the key, starting at key byte `phase`
static void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t phase) {
  uint8_t k[8];
  uint64_t m, x;
  size_t i;
  for (i = 0; i < 8; i++) k[i] = key[(i + phase) & 3];
  memcpy(&m, k, 8);
  for (i = 0; i + 8 <= n; i += 8) {
    memcpy(&x, p + i, 8);
    x ^= m;
    memcpy(p + i, &x, 8);
  }
  for (; i < n; i++) p[i] ^= k[i & 7];
}

// Masking keys and handshake nonces: splitmix64, seeded from the clocks and
// stirred with the connection address. Unpredictable enough for RFC 6455's
// purpose (a proxy cannot guess the key), not a cryptographic generator.
static void ws_random(struct mg_connection *c, uint8_t *buf, size_t n) {
  static uint64_t s;
  uint64_t z = 0;
  size_t i;
  s += mg_now() ^ mg_millis() << 20 ^ (uint64_t) (uintptr_t) c;
  for (i = 0; i < n; i++) {
    if (i % 8 == 0) {
      z = (s += 0x9e3779b97f4a7c15ULL);
      z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ z >> 27) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
    }
    buf[i] = (uint8_t) (z >> (8 * (i % 8)));
  }
}

// Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28 characters
static void ws_accept(const char *key, size_t len, char out[29]) {
  unsigned char digest[20];
  mg_sha1_ctx ctx;
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, (const unsigned char *) key, len);
  mg_sha1_update(&ctx, (const unsigned char *) WS_GUID, sizeof(WS_GUID) - 1);
  mg_sha1_final(digest, &ctx);
  mg_base64_encode(digest, sizeof(digest), out, 29);
}

// Does header `name` hold `tok` in its comma-separated list (any case)?
static bool hdr_token(struct mg_http_message *hm, const char *name, const char *tok) {
  struct mg_str *v = mg_http_get_header(hm, name), s, t;
  if (v == NULL) return false;
  for (s = *v; mg_span(s, &t, &s, ',');) {
    while (t.len > 0 && (t.buf[0] == ' ' || t.buf[0] == '\t')) t.buf++, t.len--;
    while (t.len > 0 && (t.buf[t.len - 1] == ' ' || t.buf[t.len - 1] == '\t')) t.len--;
    if (mg_strcasecmp(t, mg_str(tok)) == 0) return true;
  }
  return false;
}

static bool close_code_ok(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

// ---- Sending --------------------------------------------------------------------------
// Writes a frame header to h (14 bytes at most); returns its length
static size_t ws_header(uint8_t *h, int op, bool fin, uint64_t len,
                        const uint8_t *mask) {
  size_t n = 2, i;
  h[0] = (uint8_t) ((fin ? WS_FIN : 0) | (op & 15));
  if (len < 126) {
    h[1] = (uint8_t) len;
  } else {
    size_t w = len <= 0xffff ? 2 : 8;
    h[1] = w == 2 ? 126 : 127;
    for (i = 0; i < w; i++) h[n++] = (uint8_t) (len >> (8 * (w - 1 - i)));
  }
  if (mask != NULL) {
    h[1] |= 0x80;
    memcpy(h + n, mask, 4);
    n += 4;
  }
  return n;
}

// Makes c->send[ofs, ofs + n) one frame: inserts the header at ofs, appends
// the payload from buf (NULL: it is there already) and masks it on a client.
// Returns the frame size; 0 (and nothing sent) once our CLOSE went out.
static size_t ws_frame(struct mg_connection *c, size_t ofs, const void *buf,
                       size_t n, int op, bool fin) {
  struct ws *ws = ws_state(c);
  uint8_t h[14], key[4];
  size_t hlen;
  if ((ws != NULL && ws->close_sent) || c->is_closing) {
    if (buf == NULL) c->send.len = ofs;  // drop the wrapped payload
    return 0;
  }
  if (c->is_client) ws_random(c, key, sizeof(key));
  hlen = ws_header(h, op, fin, n, c->is_client ? key : NULL);
  if (mg_iobuf_add(&c->send, ofs, h, hlen) == 0 ||
      (buf != NULL && n > 0 && mg_iobuf_add(&c->send, ofs + hlen, buf, n) == 0)) {
    c->send.len = ofs;
    mg_error(c, "out of memory");
    return 0;
  }
  if (c->is_client) ws_mask(c->send.buf + ofs + hlen, n, key, 0);
  if (ws != NULL && op == WEBSOCKET_OP_CLOSE) ws->close_sent = 1;
  mg_io_check(c);
  return hlen + n;
}

size_t mg_ws_send_frame(struct mg_connection *c, const void *buf, size_t len,
                        int op, bool fin) {
  return ws_frame(c, c->send.len, buf == NULL ? "" : buf, buf == NULL ? 0 : len,
                  op, fin);
}

size_t mg_ws_send(struct mg_connection *c, const void *buf, size_t len, int op) {
  return mg_ws_send_frame(c, buf, len, op, true);
}

size_t mg_ws_wrap(struct mg_connection *c, size_t len, int op) {
  if (len > c->send.len) len = c->send.len;
  return ws_frame(c, c->send.len - len, NULL, len, op, true);
}

size_t mg_ws_vprintf(struct mg_connection *c, int op, const char *fmt, va_list *ap) {
  size_t ofs = c->send.len;
  mg_vxprintf(mg_pfn_iobuf, &c->send, fmt, ap);
  return mg_ws_wrap(c, c->send.len - ofs, op);
}

size_t mg_ws_printf(struct mg_connection *c, int op, const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  n = mg_ws_vprintf(c, op, fmt, &ap);
  va_end(ap);
  return n;
}

// Sends our CLOSE (once). The connection closes when the peer's CLOSE (or
// its end of the TCP connection) arrives.
void mg_ws_close(struct mg_connection *c, uint16_t code, const char *reason,
                 size_t len) {
  uint8_t p[125];
  size_t n = 0;
  if (code != 0) {
    p[0] = (uint8_t) (code >> 8), p[1] = (uint8_t) code, n = 2;
    if (reason == NULL) len = 0;
    if (len > sizeof(p) - 2) {  // cut, but not inside a UTF-8 sequence
      len = sizeof(p) - 2;
      while (len > 0 && ((unsigned char) reason[len] & 0xc0) == 0x80) len--;
    }
    if (len > 0) memcpy(p + 2, reason, len);
    n += len;
  }
  ws_frame(c, c->send.len, p, n, WEBSOCKET_OP_CLOSE, true);
  if (ws_state(c) == NULL) c->is_draining = 1;  // no state to wait with
}

// A protocol violation: CLOSE with the status, then close; input is dropped
static void ws_fail(struct mg_connection *c, uint16_t code) {
  MG_DEBUG(("%lu WebSocket error %u", c->id, (unsigned) code));
  mg_ws_close(c, code, NULL, 0);
  c->is_draining = 1;
}

// ---- Receiving ------------------------------------------------------------------------
// Parses the frame header at s[0, n). Returns its length, 0 if more bytes are
// needed, or minus the close status of a protocol violation.
static int ws_parse_header(const struct ws *ws, const uint8_t *s, size_t n,
                           struct ws_hdr *h) {
  size_t i, k = 2;
  if (n < 2) return 0;
  h->op = s[0] & 15, h->fin = s[0] >> 7, h->masked = s[1] >> 7, h->len = s[1] & 127;
  if ((s[0] & 0x70) != 0 || h->masked == ws->is_client) return -1002;  // RSV, mask
  if (h->op >= 8 ? h->op > 10 || !h->fin || h->len > 125
                 : h->op > 2 || (h->op == 0) != (ws->op != 0)) {
    return -1002;  // bad opcode or control frame; CONTINUE iff a message is open
  }
  if (h->len >= 126) k += h->len == 126 ? 2 : 8;
  if (n < k) return 0;
  if (k > 2) {
    for (h->len = 0, i = 2; i < k; i++) h->len = h->len << 8 | s[i];
    if (h->len >> 63) return -1002;
  }
  if (h->op < 8 && h->len > (uint64_t) MG_WS_MAX_MSG - ws->len) return -1009;
  if (h->masked) {
    if (n < k + 4) return 0;
    memcpy(h->mask, s + k, 4);
    k += 4;
  }
  return (int) k;
}

// A whole control frame, unmasked. PING is answered (PONG with the same
// payload) before MG_EV_WS_CTL fires; a valid CLOSE fires MG_EV_WS_CTL, is
// answered with a CLOSE echoing its status and reason (unless ours went out),
// and the connection then drains and closes.
static void ws_control(struct mg_connection *c, uint8_t op, uint8_t *p, size_t n) {
  struct mg_ws_message wm;
  uint16_t code = 0;
  if (op == WEBSOCKET_OP_CLOSE && n > 0) {
    code = (uint16_t) (n >= 2 ? p[0] << 8 | p[1] : 0);
    if (!close_code_ok(code) || !utf8_valid(p + 2, n - 2)) {
      ws_fail(c, close_code_ok(code) ? 1007 : 1002);
      return;
    }
  }
  if (op == WEBSOCKET_OP_PING) mg_ws_send(c, p, n, WEBSOCKET_OP_PONG);
  wm.data = mg_str_n((char *) p, n);
  wm.flags = (uint8_t) (WS_FIN | op);
  mg_call(c, MG_EV_WS_CTL, &wm);
  if (op == WEBSOCKET_OP_CLOSE) {  // echo the code and reason
    mg_ws_close(c, code, n > 2 ? (const char *) p + 2 : NULL, n > 2 ? n - 2 : 0);
    c->is_draining = 1;
  }
}

// Parses the frames in c->recv and fires their events
static void ws_read(struct mg_connection *c, struct ws *ws) {
  size_t pos = ws->start + ws->len;
  while (!c->is_draining && !c->is_closing) {
    uint8_t *b = c->recv.buf, *dst;
    size_t n = c->recv.len - pos, avail;
    if (!ws->in_frame) {
      struct ws_hdr h;
      int r = ws_parse_header(ws, b + pos, n, &h);
      if (r < 0) ws_fail(c, (uint16_t) -r);
      if (r <= 0) break;
      if (h.op >= 8) {  // control frames are handled whole (125 bytes at most)
        if (n < (size_t) r + h.len) break;
        dst = b + pos + r;
        pos += (size_t) r + (size_t) h.len;
        if (h.masked) ws_mask(dst, (size_t) h.len, h.mask, 0);
        ws_control(c, h.op, dst, (size_t) h.len);
        continue;
      }
      pos += (size_t) r, n -= (size_t) r;
      if (h.op != WEBSOCKET_OP_CONTINUE) {  // a new message starts here
        ws->op = h.op, ws->start = pos, ws->len = 0;
        memset(&ws->u8, 0, sizeof(ws->u8));
      }
      ws->in_frame = 1, ws->fin = h.fin, ws->masked = h.masked;
      ws->left = h.len, ws->mpos = 0;
      memcpy(ws->mask, h.mask, 4);
    }
    // As much of the payload as is here: behind the message so far, unmasked
    avail = ws->left < n ? (size_t) ws->left : n;
    dst = b + ws->start + ws->len;
    if (dst != b + pos) memmove(dst, b + pos, avail);
    if (ws->masked) ws_mask(dst, avail, ws->mask, ws->mpos);
    ws->mpos = (uint8_t) ((ws->mpos + avail) & 3);
    pos += avail, ws->len += avail, ws->left -= avail;
    if (ws->op == WEBSOCKET_OP_TEXT && !utf8_more(&ws->u8, dst, avail)) {
      ws_fail(c, 1007);  // fail fast, even inside a fragment
      break;
    }
    if (ws->left > 0) break;  // the rest of the payload is still to come
    ws->in_frame = 0;
    if (ws->fin) {
      struct mg_ws_message wm;
      if (ws->op == WEBSOCKET_OP_TEXT && ws->u8.need > 0) {
        ws_fail(c, 1007);  // ends inside a UTF-8 sequence
        break;
      }
      wm.data = mg_str_n((char *) b + ws->start, ws->len);
      wm.flags = (uint8_t) (WS_FIN | ws->op);
      mg_call(c, MG_EV_WS_MSG, &wm);
      ws->op = 0, ws->len = 0;
    }
  }
  // Drop all that was consumed: everything but the message in progress
  if (c->is_draining || c->is_closing) {
    ws->op = 0, ws->len = 0, ws->in_frame = 0, pos = c->recv.len;
  }
  if (ws->op == 0) ws->start = pos;
  mg_iobuf_del(&c->recv, ws->start + ws->len, pos - ws->start - ws->len);
  mg_iobuf_del(&c->recv, 0, ws->start);
  ws->start = 0;
}

// Client: checks the server's answer to our handshake; true once it is done
static bool ws_client_handshake(struct mg_connection *c, struct ws *ws) {
  struct mg_http_message hm;
  struct mg_str *acc;
  int n = mg_http_parse((char *) c->recv.buf, c->recv.len, &hm);
  if (n == 0 && c->recv.len <= MG_HTTP_MAX_HEAD) return false;  // incomplete
  if (n <= 0 || mg_http_status(&hm) != 101 || hm.method.len < 5 ||
      memcmp(hm.method.buf, "HTTP/", 5) != 0 ||
      !hdr_token(&hm, "Upgrade", "websocket") ||
      !hdr_token(&hm, "Connection", "upgrade") ||
      (acc = mg_http_get_header(&hm, "Sec-WebSocket-Accept")) == NULL ||
      mg_strcmp(*acc, mg_str(ws->accept)) != 0 ||
      mg_http_get_header(&hm, "Sec-WebSocket-Extensions") != NULL) {
    mg_iobuf_del(&c->recv, 0, c->recv.len);
    mg_error(c, "WebSocket handshake failed");
    return false;
  }
  ws->is_open = 1;
  c->is_websocket = 1;
  mg_call(c, MG_EV_WS_OPEN, &hm);
  mg_iobuf_del(&c->recv, 0, (size_t) n);
  return true;
}

static void ws_ev(struct mg_connection *c, int ev, void *ev_data) {
  struct ws *ws = (struct ws *) c->pfn_data;
  if (ev == MG_EV_READ && ws != NULL && !c->is_closing) {
    if (ws->is_open || ws_client_handshake(c, ws)) ws_read(c, ws);
  } else if (ev == MG_EV_CLOSE) {
    free(ws);
    c->pfn_data = NULL;
  }
  (void) ev_data;
}

// ---- Handshakes -----------------------------------------------------------------------
void mg_ws_upgrade(struct mg_connection *c, struct mg_http_message *hm,
                   const char *fmt, ...) {
  struct mg_str *key = mg_http_get_header(hm, "Sec-WebSocket-Key");
  struct mg_str *ver = mg_http_get_header(hm, "Sec-WebSocket-Version");
  char nonce[20], accept[29];
  struct ws *ws = NULL;
  if (c->pfn == ws_ev) return;  // upgraded already
  if (mg_strcmp(hm->method, mg_str("GET")) != 0 ||
      !hdr_token(hm, "Upgrade", "websocket") ||
      !hdr_token(hm, "Connection", "upgrade") || ver == NULL ||
      mg_strcmp(*ver, mg_str("13")) != 0 || key == NULL ||
      mg_base64_decode(key->buf, key->len, nonce, sizeof(nonce)) != 16) {
    c->is_close_after = 1;  // "Connection: close", then close
    mg_http_reply(c, 400, "Sec-WebSocket-Version: 13\r\n",
                  "Bad WebSocket handshake\n");
    c->is_draining = 1;
    return;
  }
  if ((ws = (struct ws *) calloc(1, sizeof(*ws))) == NULL) {
    mg_error(c, "out of memory");
    return;
  }
  ws_accept(key->buf, key->len, accept);
  mg_printf(c,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
            accept);
  if (fmt != NULL) {
    va_list ap;
    va_start(ap, fmt);
    mg_vprintf(c, fmt, &ap);
    va_end(ap);
  }
  mg_send(c, "\r\n", 2);
  ws->is_open = 1;
  c->is_websocket = 1;
  c->is_resp = 0;
  c->pfn = ws_ev;
  c->pfn_data = ws;
  c->is_resume = c->recv.len > 0;  // frames already buffered (a late upgrade)
  mg_io_check(c);
  mg_call(c, MG_EV_WS_OPEN, hm);
}

// The URL's host[:port] as written (without user info)
static struct mg_str url_authority(const char *url) {
  const char *s = strstr(url, "://"), *e;
  s = s == NULL ? url : s + 3;
  for (e = s; *e != '\0' && *e != '/' && *e != '?' && *e != '#'; e++) {
    if (*e == '@') s = e + 1;
  }
  return mg_str_n(s, (size_t) (e - s));
}

// The request is queued at once; the driver sends it when connected
struct mg_connection *mg_ws_connect(struct mg_mgr *mgr, const char *url,
                                    mg_event_handler_t fn, void *fn_data,
                                    const char *fmt, ...) {
  struct mg_connection *c = mg_connect(mgr, url, fn, fn_data);
  struct mg_str host = url_authority(url);
  uint8_t nonce[16];
  char key[25];
  struct ws *ws;
  if (c == NULL) return NULL;
  if ((ws = (struct ws *) calloc(1, sizeof(*ws))) == NULL) {
    mg_error(c, "out of memory");
    return c;
  }
  ws->is_client = 1;
  c->pfn = ws_ev;
  c->pfn_data = ws;
  ws_random(c, nonce, sizeof(nonce));
  mg_base64_encode(nonce, sizeof(nonce), key, sizeof(key));
  ws_accept(key, 24, ws->accept);
  mg_printf(c,
            "GET %s HTTP/1.1\r\nHost: %.*s\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: %s\r\n",
            mg_url_uri(url), (int) host.len, host.buf, key);
  if (fmt != NULL) {
    va_list ap;
    va_start(ap, fmt);
    mg_vprintf(c, fmt, &ap);
    va_end(ap);
  }
  mg_send(c, "\r\n", 2);
  return c;
}
