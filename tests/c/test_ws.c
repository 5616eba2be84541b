// Unit tests for vendor/mongoose/src/ws.c, sha1.c and base64.c: hashing and
// encoding vectors, the handshakes, framing, fragmentation, UTF-8, limits and
// the close handshake (driven through tests/c/fake_driver.c).
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

// ---- SHA-1 (RFC 3174) and base64 (RFC 4648) ------------------------------------------
static bool sha1_is(const void *data, size_t len, size_t reps, const char *hex) {
  unsigned char d[20];
  char got[41];
  mg_sha1_ctx ctx;
  size_t i;
  mg_sha1_init(&ctx);
  for (i = 0; i < reps; i++) mg_sha1_update(&ctx, (const unsigned char *) data, len);
  mg_sha1_final(d, &ctx);
  for (i = 0; i < 20; i++) snprintf(got + 2 * i, 3, "%02x", d[i]);
  if (strcmp(got, hex) != 0) fprintf(stderr, "sha1 got %s\n", got);
  return strcmp(got, hex) == 0;
}

static void test_sha1(void) {
  const char *t4 = "0123456701234567012345670123456701234567012345670123456701234567";
  static char big[1000000];
  size_t i;
  mg_sha1_ctx ctx;
  unsigned char d1[20], d2[20];
  CHECK(sha1_is("", 0, 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  CHECK(sha1_is("abc", 3, 1, "a9993e364706816aba3e25717850c26c9cd0d89d"));
  CHECK(sha1_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 1,
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
  CHECK(sha1_is("a", 1, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"));
  CHECK(sha1_is(t4, 64, 10, "dea356a2cddd90c7a7ecedc5ebb563934f460452"));
  memset(big, 'a', sizeof(big));
  CHECK(sha1_is(big, sizeof(big), 1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"));
  // Any split of the input gives the same digest
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, (const unsigned char *) big, 1000);
  mg_sha1_final(d1, &ctx);
  mg_sha1_init(&ctx);
  for (i = 0; i < 1000; i += 7) {
    mg_sha1_update(&ctx, (const unsigned char *) big + i, i + 7 > 1000 ? 1000 - i : 7);
  }
  mg_sha1_final(d2, &ctx);
  CHECK(memcmp(d1, d2, 20) == 0);
}

static void test_base64(void) {
  static const char *v[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                               {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                               {"foobar", "Zm9vYmFy"}};
  char buf[64];
  size_t i;
  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    size_t n = strlen(v[i][0]), m = strlen(v[i][1]);
    CHECK(mg_base64_encode((const unsigned char *) v[i][0], n, buf, sizeof(buf)) == m);
    CHECK(strcmp(buf, v[i][1]) == 0);
    CHECK(mg_base64_decode(v[i][1], m, buf, sizeof(buf)) == n);
    CHECK(memcmp(buf, v[i][0], n) == 0 && buf[n] == '\0');
  }
  // No padding; binary; every character of the alphabet
  CHECK(mg_base64_decode("Zg", 2, buf, sizeof(buf)) == 1 && buf[0] == 'f');
  CHECK(mg_base64_decode("Zm9vYmE", 7, buf, sizeof(buf)) == 5 && memcmp(buf, "fooba", 5) == 0);
  CHECK(mg_base64_encode((const unsigned char *) "\xfb\xff\xbf", 3, buf, sizeof(buf)) == 4);
  CHECK(strcmp(buf, "+/+/") == 0);
  CHECK(mg_base64_decode("+/+/", 4, buf, sizeof(buf)) == 3 && memcmp(buf, "\xfb\xff\xbf", 3) == 0);
  // Bad input
  CHECK(mg_base64_decode("Zm9v!", 5, buf, sizeof(buf)) == 0);
  CHECK(mg_base64_decode("Z", 1, buf, sizeof(buf)) == 0);
  CHECK(mg_base64_decode("Zg=", 3, buf, sizeof(buf)) == 0);
  CHECK(mg_base64_decode("Z===", 4, buf, sizeof(buf)) == 0);
  CHECK(mg_base64_decode("Zm=v", 4, buf, sizeof(buf)) == 0);
  CHECK(mg_base64_decode("Zg==Zg==", 8, buf, sizeof(buf)) == 0);
  CHECK(mg_base64_decode("Zm 9v", 5, buf, sizeof(buf)) == 0);
  // Output buffer sizes: exact fit (no NUL), too small
  CHECK(mg_base64_encode((const unsigned char *) "foo", 3, buf, 4) == 4);
  CHECK(mg_base64_encode((const unsigned char *) "foo", 3, buf, 3) == 0);
  CHECK(mg_base64_decode("Zm9v", 4, buf, 3) == 3);
  CHECK(mg_base64_decode("Zm9v", 4, buf, 2) == 0);
}

// ---- Test server and frame helpers --------------------------------------------------
static struct mg_mgr s_mgr;
static struct mg_connection *s_lsn;
static int s_open, s_nmsg, s_nctl, s_errors;
static bool s_echo;                 // echo every message back
static struct mg_iobuf s_msg, s_ctl;  // the last message / control payload
static uint8_t s_msg_flags, s_ctl_flags;

static void record(struct mg_iobuf *io, struct mg_str s) {
  io->len = 0;
  mg_iobuf_add(io, 0, s.buf, s.len);
}

static void srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
  if (ev == MG_EV_HTTP_MSG) {
    mg_ws_upgrade(c, (struct mg_http_message *) ev_data, "Sec-WebSocket-Protocol: %s\r\n",
                  "chat");
  } else if (ev == MG_EV_WS_OPEN) {
    s_open++;
  } else if (ev == MG_EV_WS_MSG) {
    s_nmsg++, s_msg_flags = wm->flags;
    record(&s_msg, wm->data);
    if (s_echo) mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 15);
  } else if (ev == MG_EV_WS_CTL) {
    s_nctl++, s_ctl_flags = wm->flags;
    record(&s_ctl, wm->data);
  } else if (ev == MG_EV_ERROR) {
    s_errors++;
  }
}

static void reset(void) {
  s_open = s_nmsg = s_nctl = s_errors = 0;
  s_msg_flags = s_ctl_flags = 0;
  s_msg.len = s_ctl.len = 0;
  s_echo = false;
  fake_reset();
}

static bool out_has(const char *want) {
  size_t n = strlen(want), i;
  for (i = 0; i + n <= fake_out.len; i++) {
    if (memcmp(fake_out.buf + i, want, n) == 0) return true;
  }
  return false;
}

static bool msg_is(const struct mg_iobuf *io, const void *p, size_t n) {
  return io->len == n && (n == 0 || memcmp(io->buf, p, n) == 0);
}

// A frame with first byte b0 (FIN, RSV, opcode) and payload p[0..n), masked
// as a client would unless `masked` is false. The caller frees it.
static uint8_t *mkframe(int b0, const void *p, size_t n, bool masked, size_t *len) {
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  uint8_t *f = (uint8_t *) malloc(n + 14);
  size_t h = 2, i;
  f[0] = (uint8_t) b0;
  if (n < 126) {
    f[1] = (uint8_t) n;
  } else if (n < 65536) {
    f[1] = 126, f[2] = (uint8_t) (n >> 8), f[3] = (uint8_t) n, h = 4;
  } else {
    f[1] = 127, h = 10;
    for (i = 0; i < 8; i++) f[2 + i] = (uint8_t) ((uint64_t) n >> (56 - 8 * i));
  }
  if (masked) {
    f[1] |= 0x80;
    memcpy(f + h, key, 4);
    h += 4;
  }
  for (i = 0; i < n; i++) f[h + i] = (uint8_t) (((const uint8_t *) p)[i] ^ (masked ? key[i & 3] : 0));
  *len = h + n;
  return f;
}

// Feeds a client frame to c; false if c was closed
static bool send_frame(struct mg_connection *c, int b0, const void *p, size_t n) {
  size_t len;
  uint8_t *f = mkframe(b0, p, n, true, &len);
  bool alive = fake_recv(c, f, len);
  free(f);
  return alive;
}

// Takes the frame at fake_out[*ofs] (unmasking it in place); false if none
static bool out_frame(size_t *ofs, int *b0, uint8_t **p, size_t *n) {
  uint8_t *s = fake_out.buf + *ofs;
  size_t avail = fake_out.len - *ofs, h = 2, i;
  uint64_t len;
  if (avail < 2) return false;
  len = s[1] & 127;
  if (len >= 126) {
    size_t w = len == 126 ? 2 : 8;
    if (avail < 2 + w) return false;
    for (len = 0, i = 0; i < w; i++) len = len << 8 | s[2 + i];
    h += w;
  }
  if (s[1] & 0x80) h += 4;
  if (avail < h || avail - h < len) return false;
  if (s[1] & 0x80) {
    for (i = 0; i < len; i++) s[h + i] ^= s[h - 4 + (i & 3)];
    s[1] &= 0x7f;  // unmasked now: a second look gives the same result
    memmove(s + h - 4, s + h, (size_t) len);
    memmove(s + h - 4 + len, s + h + len, avail - h - (size_t) len);
    fake_out.len -= 4, h -= 4;
  }
  *b0 = s[0], *p = s + h, *n = (size_t) len;
  *ofs += h + (size_t) len;
  return true;
}

// Is fake_out exactly one frame b0 with payload p[0..n)?
static bool out_is_frame(int b0, const void *p, size_t n) {
  size_t ofs = 0, got;
  int b;
  uint8_t *q;
  bool ok = out_frame(&ofs, &b, &q, &got) && ofs == fake_out.len && b == b0 &&
            got == n && (n == 0 || memcmp(q, p, n) == 0);
  if (!ok) fprintf(stderr, "out: %lu bytes, first %02x\n", (unsigned long) fake_out.len,
                   fake_out.len > 0 ? fake_out.buf[0] : 0);
  return ok;
}

// Is fake_out a CLOSE frame with this status (0: empty)?
static bool out_is_close(unsigned code) {
  uint8_t p[2] = {(uint8_t) (code >> 8), (uint8_t) code};
  return out_is_frame(0x88, p, code == 0 ? 0 : 2);
}

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define UPGRADE                                                              \
  "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n"
#define REPLY_101                                                        \
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"           \
  "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" \
  "Sec-WebSocket-Protocol: chat\r\n\r\n"

// An upgraded server connection (fake_out cleared)
static struct mg_connection *ws_conn(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  reset();
  CHECK(fake_recv(c, UPGRADE, strlen(UPGRADE)));
  CHECK(fake_out.len == strlen(REPLY_101) && memcmp(fake_out.buf, REPLY_101, fake_out.len) == 0);
  CHECK(s_open == 1 && c->is_websocket && c->recv.len == 0);
  fake_reset();
  return c;
}

// ---- Handshake ----------------------------------------------------------------------
static void expect_400(const char *req) {
  struct mg_connection *c = fake_accept(s_lsn);
  reset();
  CHECK(!fake_recv(c, req, strlen(req)));
  CHECK(fake_out.len > 12 && memcmp(fake_out.buf, "HTTP/1.1 400", 12) == 0 && s_open == 0);
  CHECK(out_has("Sec-WebSocket-Version: 13\r\n") && out_has("Connection: close\r\n"));
}

static void test_handshake(void) {
  struct mg_connection *c = ws_conn();  // the RFC 6455 example key
  const char *lenient =
      "GET /ws HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n";
  mg_close_conn(c);
  c = fake_accept(s_lsn);
  reset();
  CHECK(fake_recv(c, lenient, strlen(lenient)) && s_open == 1 && out_has(" 101 "));
  CHECK(out_has("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  mg_close_conn(c);

  expect_400("GET / HTTP/1.1\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Key: " KEY "\r\n\r\n");  // no Upgrade
  expect_400("GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n");
  expect_400("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n");
  expect_400("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " KEY "\r\n\r\n");
  expect_400("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: " KEY "\r\n\r\n");  // no version
  expect_400("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n");  // no key
  expect_400("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: Zm9vYmFy\r\n\r\n");  // 6 bytes
  expect_400("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!=\r\n\r\n");
  expect_400("POST / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n"
             "Content-Length: 0\r\n\r\n");
}

// Frames right behind the upgrade request are handed over to the new protocol
static void test_pipelined(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  size_t n1, n2;
  uint8_t *f1 = mkframe(0x81, "one", 3, true, &n1), *f2 = mkframe(0x82, "two", 3, true, &n2);
  struct mg_iobuf in = {NULL, 0, 0, 64};
  mg_iobuf_add(&in, 0, UPGRADE, strlen(UPGRADE));
  mg_iobuf_add(&in, in.len, f1, n1);
  mg_iobuf_add(&in, in.len, f2, n2);
  reset();
  CHECK(fake_recv(c, in.buf, in.len));
  CHECK(s_open == 1 && s_nmsg == 2 && s_msg_flags == 0x82 && msg_is(&s_msg, "two", 3));
  CHECK(c->recv.len == 0);
  free(f1), free(f2), mg_iobuf_free(&in);
  mg_close_conn(c);
}

// ---- Frames -------------------------------------------------------------------------
static void test_sizes(void) {
  static const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 100000};
  struct mg_connection *c = ws_conn();
  uint8_t *data = (uint8_t *) malloc(100000);
  size_t i, ofs, n;
  int op, b0;
  uint8_t *p;
  for (i = 0; i < 100000; i++) data[i] = (uint8_t) ('a' + i % 26);
  s_echo = true;
  for (op = 1; op <= 2; op++) {
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
      size_t hl = sizes[i] < 126 ? 2 : sizes[i] < 65536 ? 4 : 10;
      fake_reset();
      CHECK(send_frame(c, 0x80 | op, data, sizes[i]));
      CHECK(s_msg_flags == (0x80 | op) && msg_is(&s_msg, data, sizes[i]));
      CHECK(fake_out.len == hl + sizes[i]);  // the echo: never masked
      CHECK((fake_out.buf[1] & 0x80) == 0);
      ofs = 0;
      CHECK(out_frame(&ofs, &b0, &p, &n) && b0 == (0x80 | op) && n == sizes[i] &&
            memcmp(p, data, n) == 0);
      CHECK(c->recv.len == 0);
    }
  }
  CHECK(s_nmsg == 14 && s_nctl == 0);
  // Many frames in one read
  {
    struct mg_iobuf in = {NULL, 0, 0, 64};
    for (i = 0; i < 50; i++) {
      uint8_t *f = mkframe(0x81, data, i * 3, true, &n);
      mg_iobuf_add(&in, in.len, f, n);
      free(f);
    }
    s_nmsg = 0, s_echo = false;
    CHECK(fake_recv(c, in.buf, in.len) && s_nmsg == 50 && msg_is(&s_msg, data, 147));
    CHECK(c->recv.len == 0);
    mg_iobuf_free(&in);
  }
  // Frame headers from the sending API
  fake_reset();
  CHECK(mg_ws_send(c, data, 126, WEBSOCKET_OP_BINARY) == 130);
  CHECK(fake_finish(c) && out_is_frame(0x82, data, 126));
  fake_reset();
  CHECK(mg_ws_send_frame(c, "ab", 2, WEBSOCKET_OP_TEXT, false) == 4);
  CHECK(mg_ws_send_frame(c, "c", 1, WEBSOCKET_OP_CONTINUE, true) == 3);
  CHECK(fake_finish(c) && fake_out.len == 7 && memcmp(fake_out.buf, "\x01\x02" "ab\x80\x01" "c", 7) == 0);
  fake_reset();
  CHECK(mg_ws_printf(c, WEBSOCKET_OP_TEXT, "n=%d", 42) == 6);
  CHECK(fake_finish(c) && out_is_frame(0x81, "n=42", 4));
  fake_reset();
  mg_printf(c, "%s", "wrapped");
  CHECK(mg_ws_wrap(c, 7, WEBSOCKET_OP_BINARY) == 9);
  CHECK(fake_finish(c) && out_is_frame(0x82, "wrapped", 7));
  free(data);
  mg_close_conn(c);
}

// A client frame that breaks the protocol: CLOSE with `code`, then closed
static void expect_fail(const void *bytes, size_t n, unsigned code) {
  struct mg_connection *c = ws_conn();
  CHECK(!fake_recv(c, bytes, n));
  CHECK(out_is_close(code));
}

// The same, for a frame built by mkframe (masked)
static void expect_fail_frame(int b0, const void *p, size_t n, unsigned code) {
  size_t len;
  uint8_t *f = mkframe(b0, p, n, true, &len);
  expect_fail(f, len, code);
  free(f);
}

static void test_protocol_errors(void) {
  size_t len;
  uint8_t big[200] = {0}, *f = mkframe(0x81, "hi", 2, false, &len);
  expect_fail(f, len, 1002);  // unmasked client frame
  free(f);
  expect_fail_frame(0x83, "", 0, 1002);   // reserved opcodes
  expect_fail_frame(0x87, "", 0, 1002);
  expect_fail_frame(0x8b, "", 0, 1002);
  expect_fail_frame(0x8f, "", 0, 1002);
  expect_fail_frame(0xc1, "x", 1, 1002);  // RSV1
  expect_fail_frame(0xa1, "x", 1, 1002);  // RSV2
  expect_fail_frame(0x91, "x", 1, 1002);  // RSV3
  expect_fail_frame(0x09, "", 0, 1002);   // fragmented PING
  expect_fail_frame(0x89, big, 126, 1002);  // control frame > 125 bytes
  expect_fail_frame(0x8a, big, 200, 1002);
  expect_fail_frame(0x80, "x", 1, 1002);  // CONTINUE without a message
  expect_fail_frame(0x00, "x", 1, 1002);
  // A length with the top bit set
  expect_fail("\x82\xff\x80\0\0\0\0\0\0\0", 10, 1002);
  {  // a new message while one is in progress
    struct mg_connection *c = ws_conn();
    CHECK(send_frame(c, 0x01, "a", 1) && s_nmsg == 0);
    CHECK(!send_frame(c, 0x81, "b", 1) && out_is_close(1002) && s_nmsg == 0);
  }
  {  // anything after the error is dropped, even in the same read
    struct mg_connection *c = ws_conn();
    uint8_t in[16];
    memcpy(in, "\x81\x01x", 3);  // unmasked
    f = mkframe(0x81, "y", 1, true, &len);
    memcpy(in + 3, f, len);
    free(f);
    CHECK(!fake_recv(c, in, 3 + len) && s_nmsg == 0 && out_is_close(1002));
  }
}

static void test_fragments(void) {
  struct mg_connection *c = ws_conn();
  CHECK(send_frame(c, 0x01, "Hel", 3) && s_nmsg == 0);
  CHECK(send_frame(c, 0x89, "p!", 2) && s_nctl == 1 && s_ctl_flags == 0x89);
  CHECK(msg_is(&s_ctl, "p!", 2) && out_is_frame(0x8a, "p!", 2));  // automatic PONG
  CHECK(send_frame(c, 0x00, "lo ", 3) && s_nmsg == 0);
  CHECK(send_frame(c, 0x8a, "", 0) && s_nctl == 2 && s_ctl_flags == 0x8a);  // unsolicited PONG
  CHECK(send_frame(c, 0x00, "", 0) && s_nmsg == 0);
  CHECK(send_frame(c, 0x80, "world", 5) && s_nmsg == 1);
  CHECK(s_msg_flags == 0x81 && msg_is(&s_msg, "Hello world", 11));
  CHECK(c->recv.len == 0);
  // Binary, all fragments in one read, a PING between them
  {
    struct mg_iobuf in = {NULL, 0, 0, 64};
    static const int b0[] = {0x02, 0x00, 0x89, 0x00, 0x80};
    static const char *pl[] = {"\x00\x01", "", "ping", "\xff", "\xfe\x00"};
    static const size_t pn[] = {2, 0, 4, 1, 2};
    size_t i, n;
    for (i = 0; i < 5; i++) {
      uint8_t *f = mkframe(b0[i], pl[i], pn[i], true, &n);
      mg_iobuf_add(&in, in.len, f, n);
      free(f);
    }
    fake_reset();
    CHECK(fake_recv(c, in.buf, in.len) && s_nmsg == 2 && s_nctl == 3);
    CHECK(s_msg_flags == 0x82 && msg_is(&s_msg, "\x00\x01\xff\xfe\x00", 5));
    CHECK(msg_is(&s_ctl, "ping", 4) && out_is_frame(0x8a, "ping", 4));
    // ... and the same one byte at a time
    s_nmsg = s_nctl = 0;
    fake_reset();
    for (i = 0; i < in.len; i++) CHECK(fake_recv(c, in.buf + i, 1));
    CHECK(s_nmsg == 1 && s_nctl == 1 && msg_is(&s_msg, "\x00\x01\xff\xfe\x00", 5));
    CHECK(out_is_frame(0x8a, "ping", 4) && c->recv.len == 0);
    mg_iobuf_free(&in);
  }
  mg_close_conn(c);
}

// Everything, one byte at a time: the handshake, a 300-byte message, a
// fragmented one with a PING inside, and a close
static void test_byte_by_byte(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  struct mg_iobuf in = {NULL, 0, 0, 64};
  char data[300];
  size_t i, n;
  uint8_t *f;
  memset(data, 'z', sizeof(data));
  mg_iobuf_add(&in, 0, UPGRADE, strlen(UPGRADE));
  f = mkframe(0x81, data, sizeof(data), true, &n), mg_iobuf_add(&in, in.len, f, n), free(f);
  f = mkframe(0x01, "ab", 2, true, &n), mg_iobuf_add(&in, in.len, f, n), free(f);
  f = mkframe(0x89, "x", 1, true, &n), mg_iobuf_add(&in, in.len, f, n), free(f);
  f = mkframe(0x80, "cd", 2, true, &n), mg_iobuf_add(&in, in.len, f, n), free(f);
  f = mkframe(0x88, "\x03\xe8", 2, true, &n), mg_iobuf_add(&in, in.len, f, n), free(f);
  reset();
  for (i = 0; i + 1 < in.len; i++) CHECK(fake_recv(c, in.buf + i, 1));
  CHECK(s_open == 1 && s_nmsg == 2 && s_nctl == 1 && msg_is(&s_msg, "abcd", 4));
  CHECK(!fake_recv(c, in.buf + i, 1) && s_nctl == 2 && s_ctl_flags == 0x88);
  mg_iobuf_free(&in);
}

// ---- UTF-8 and size limits ------------------------------------------------------------
static void test_utf8(void) {
  static const char *bad[] = {
      "\xc0\xaf",           // overlong '/'
      "\xe0\x80\xaf",       // overlong, 3 bytes
      "\xf0\x80\x80\xaf",   // overlong, 4 bytes
      "\xed\xa0\x80",       // surrogate U+D800
      "\xed\xbf\xbf",       // surrogate U+DFFF
      "\xf4\x90\x80\x80",   // U+110000
      "\xf5\x80\x80\x80",   // not a lead byte
      "\xff",               // never valid
      "\x80",               // lone continuation
      "ab\xe2\x82",         // truncated at the end
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80-edited",
  };
  static const char *good = "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                            "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf plain ASCII text!";
  struct mg_connection *c;
  size_t i;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    expect_fail_frame(0x81, bad[i], strlen(bad[i]), 1007);
    CHECK(s_nmsg == 0);
  }
  c = ws_conn();
  CHECK(send_frame(c, 0x81, good, strlen(good)) && msg_is(&s_msg, good, strlen(good)));
  CHECK(send_frame(c, 0x82, "\xff\xc0", 2) && s_nmsg == 2);  // binary: anything goes
  // A code point split across fragments
  CHECK(send_frame(c, 0x01, "\xe2", 1) && send_frame(c, 0x00, "\x82", 1));
  CHECK(send_frame(c, 0x80, "\xac", 1) && msg_is(&s_msg, "\xe2\x82\xac", 3));
  // Invalid across fragments: fails on the fragment that makes it invalid
  CHECK(send_frame(c, 0x01, "ok\xed", 3) && s_nmsg == 3);
  CHECK(!send_frame(c, 0x00, "\xa0\x80", 2) && out_is_close(1007) && s_nmsg == 3);
  // Invalid inside a first fragment: fails at once
  c = ws_conn();
  CHECK(!send_frame(c, 0x01, "\xff", 1) && out_is_close(1007) && s_nmsg == 0);
  // A fragmented message that ends inside a sequence
  c = ws_conn();
  CHECK(send_frame(c, 0x01, "a\xf0\x9f", 3) && send_frame(c, 0x00, "\x98", 1));
  CHECK(!send_frame(c, 0x80, "", 0) && out_is_close(1007) && s_nmsg == 0);
}

static void test_limits(void) {
  struct mg_connection *c;
  uint8_t *big = (uint8_t *) calloc(1, MG_WS_MAX_MSG + 14);
  size_t len;
  uint8_t *f;
  // Judged from the declared length, before the payload arrives
  f = mkframe(0x82, big, MG_WS_MAX_MSG + 1, true, &len);
  expect_fail(f, 14, 1009);
  free(f);
  c = ws_conn();  // the total of the fragments counts
  CHECK(send_frame(c, 0x02, big, 1000));
  f = mkframe(0x80, big, MG_WS_MAX_MSG - 999, true, &len);
  CHECK(!fake_recv(c, f, 14) && out_is_close(1009) && s_nmsg == 0);
  // Exactly the limit passes (arriving in two reads)
  c = ws_conn();
  memset(big, 'q', MG_WS_MAX_MSG);
  free(f);
  f = mkframe(0x82, big, MG_WS_MAX_MSG, true, &len);
  CHECK(fake_recv(c, f, len / 2) && s_nmsg == 0);
  CHECK(fake_recv(c, f + len / 2, len - len / 2) && s_nmsg == 1);
  CHECK(s_msg.len == MG_WS_MAX_MSG && s_msg.buf[MG_WS_MAX_MSG - 1] == 'q');
  CHECK(c->recv.len == 0);
  free(f);
  free(big);
  mg_close_conn(c);
}

// ---- Close handshake ------------------------------------------------------------------
static void test_close(void) {
  struct mg_connection *c = ws_conn();
  unsigned long id;
  // The client closes with a status and a reason: both echoed, then closed
  CHECK(!send_frame(c, 0x88, "\x03\xe8" "bye", 5));
  CHECK(s_nctl == 1 && s_ctl_flags == 0x88 && msg_is(&s_ctl, "\x03\xe8" "bye", 5));
  CHECK(out_is_frame(0x88, (const uint8_t *) "\x03\xe8" "bye", 5));
  c = ws_conn();  // an empty CLOSE gets an empty one
  CHECK(!send_frame(c, 0x88, "", 0) && out_is_close(0));
  c = ws_conn();
  CHECK(!send_frame(c, 0x88, "\x0f\xa0", 2) && out_is_close(4000));
  // Bad CLOSE frames
  expect_fail_frame(0x88, "\x03", 1, 1002);
  expect_fail_frame(0x88, "\x03\xed", 2, 1002);  // 1005
  expect_fail_frame(0x88, "\x03\xee", 2, 1002);  // 1006
  expect_fail_frame(0x88, "\x03\xf7", 2, 1002);  // 1015
  expect_fail_frame(0x88, "\x03\xe7", 2, 1002);  // 999
  expect_fail_frame(0x88, "\x13\x88", 2, 1002);  // 5000
  expect_fail_frame(0x88, "\x03\xe8\xff", 3, 1007);
  CHECK(s_nctl == 0);

  // The server closes first: it keeps reading until the client's CLOSE
  c = ws_conn();
  id = c->id;
  mg_ws_close(c, 1001, "going", 5);
  CHECK(fake_finish(c) && out_is_frame(0x88, "\x03\xe9going", 7));
  fake_reset();
  CHECK(mg_ws_send(c, "late", 4, WEBSOCKET_OP_TEXT) == 0);  // nothing after CLOSE
  mg_ws_close(c, 1000, NULL, 0);                              // nor a second CLOSE
  CHECK(fake_finish(c) && fake_out.len == 0);
  CHECK(send_frame(c, 0x81, "still", 5) && msg_is(&s_msg, "still", 5));
  CHECK(send_frame(c, 0x89, "", 0) && fake_out.len == 0);  // no PONG after CLOSE
  CHECK(!send_frame(c, 0x88, "\x03\xe9", 2) && fake_out.len == 0);
  CHECK(!fake_alive(&s_mgr, id));
  // ... or until the client goes away
  c = ws_conn();
  id = c->id;
  mg_ws_close(c, 1000, NULL, 0);
  mg_io_eof(c);
  CHECK(!fake_finish(c) && out_is_close(1000));
  // A long reason is cut at 123 bytes, not inside a UTF-8 sequence
  c = ws_conn();
  {
    char r[200];
    size_t ofs = 0, n;
    int b0;
    uint8_t *p;
    memset(r, 'r', sizeof(r));
    memcpy(r + 122, "\xe2\x82\xac", 3);
    mg_ws_close(c, 1000, r, sizeof(r));
    CHECK(fake_finish(c) && out_frame(&ofs, &b0, &p, &n) && b0 == 0x88 && n == 124);
  }
  mg_close_conn(c);
}

// ---- Client ---------------------------------------------------------------------------
static int c_open, c_nmsg, c_errors;
static struct mg_iobuf c_msg;

static void cli_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_WS_OPEN) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    c_open++;
    CHECK(mg_http_status(hm) == 101);
  } else if (ev == MG_EV_WS_MSG) {
    c_nmsg++;
    record(&c_msg, ((struct mg_ws_message *) ev_data)->data);
  } else if (ev == MG_EV_ERROR) {
    c_errors++;
  }
  (void) c;
}

// Connects a client, checks its request; *accept gets the right answer
static struct mg_connection *cli_conn(char accept[29]) {
  struct mg_http_message hm;
  struct mg_connection *c;
  struct mg_str *key;
  unsigned char d[20];
  char nonce[20];
  mg_sha1_ctx ctx;
  c_open = c_nmsg = c_errors = 0;
  fake_reset();
  c = mg_ws_connect(&s_mgr, "ws://user:pw@127.0.0.1:8123/chat?x=1", cli_fn, NULL,
                    "Sec-WebSocket-Protocol: %s\r\n", "chat");
  CHECK(c != NULL && fake_finish(c) && fake_out.len == 0);  // not connected yet
  mg_io_connected(c, NULL);
  CHECK(fake_finish(c));
  CHECK(mg_http_parse((char *) fake_out.buf, fake_out.len, &hm) == (int) fake_out.len);
  CHECK(str_is(hm.method, "GET") && str_is(hm.uri, "/chat") && str_is(hm.query, "x=1"));
  CHECK(str_is(*mg_http_get_header(&hm, "Host"), "127.0.0.1:8123"));
  CHECK(str_is(*mg_http_get_header(&hm, "Upgrade"), "websocket"));
  CHECK(str_is(*mg_http_get_header(&hm, "Connection"), "Upgrade"));
  CHECK(str_is(*mg_http_get_header(&hm, "Sec-WebSocket-Version"), "13"));
  CHECK(str_is(*mg_http_get_header(&hm, "Sec-WebSocket-Protocol"), "chat"));
  key = mg_http_get_header(&hm, "Sec-WebSocket-Key");
  CHECK(key != NULL && key->len == 24 && mg_base64_decode(key->buf, key->len, nonce, 20) == 16);
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, (unsigned char *) key->buf, key->len);
  mg_sha1_update(&ctx, (unsigned char *) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
  mg_sha1_final(d, &ctx);
  mg_base64_encode(d, 20, accept, 29);
  fake_reset();
  return c;
}

static bool cli_recv_101(struct mg_connection *c, const char *accept, const void *more,
                         size_t n) {
  char buf[256];
  int len = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
  memcpy(buf + len, more, n);
  return fake_recv(c, buf, (size_t) len + n);
}

static void test_client(void) {
  char accept[29], other[29];
  struct mg_connection *c = cli_conn(accept);
  size_t ofs = 0, n, len;
  uint8_t *p, *f, key1[4];
  int b0;
  // The 101 with a frame right behind it
  CHECK(cli_recv_101(c, accept, "\x81\x02hi", 4));
  CHECK(c_open == 1 && c->is_websocket && c_nmsg == 1 && msg_is(&c_msg, "hi", 2));
  CHECK(c->recv.len == 0);
  // Our frames are masked, each with its own key
  CHECK(mg_ws_send(c, "hello", 5, WEBSOCKET_OP_TEXT) == 11);
  CHECK(mg_ws_printf(c, WEBSOCKET_OP_TEXT, "%s", "hello") == 11);
  CHECK(fake_finish(c) && fake_out.len == 22 && (fake_out.buf[1] & 0x80) != 0);
  memcpy(key1, fake_out.buf + 2, 4);
  CHECK(memcmp(key1, fake_out.buf + 13, 4) != 0);
  CHECK(out_frame(&ofs, &b0, &p, &n) && b0 == 0x81 && n == 5 && memcmp(p, "hello", 5) == 0);
  CHECK(out_frame(&ofs, &b0, &p, &n) && b0 == 0x81 && n == 5 && memcmp(p, "hello", 5) == 0);
  // A large one, and a PING answered with a masked PONG
  {
    uint8_t *data = (uint8_t *) malloc(70000);
    memset(data, 7, 70000);
    fake_reset(), ofs = 0;
    CHECK(mg_ws_send(c, data, 70000, WEBSOCKET_OP_BINARY) == 70014);
    CHECK(fake_finish(c) && out_frame(&ofs, &b0, &p, &n) && n == 70000 &&
          memcmp(p, data, n) == 0);
    free(data);
  }
  fake_reset();
  f = mkframe(0x89, "pp", 2, false, &len);
  CHECK(fake_recv(c, f, len) && (fake_out.buf[1] & 0x80) != 0 && out_is_frame(0x8a, "pp", 2));
  free(f);
  // A masked frame from the server is an error
  fake_reset();
  f = mkframe(0x81, "x", 1, true, &len);
  CHECK(!fake_recv(c, f, len) && out_is_close(1002));
  free(f);

  // The response split into single bytes
  c = cli_conn(accept);
  {
    char buf[256];
    int i, m = snprintf(buf, sizeof(buf),
                        "HTTP/1.1 101 OK\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: %s\r\n\r\n\x82\x01!",
                        accept);
    for (i = 0; i < m; i++) CHECK(fake_recv(c, buf + i, 1));
    CHECK(c_open == 1 && c_nmsg == 1 && msg_is(&c_msg, "!", 1));
    mg_close_conn(c);
  }
  // Bad responses: closed with an error, no WS_OPEN
  c = cli_conn(accept);
  memcpy(other, accept, 29);
  other[0] = other[0] == 'A' ? 'B' : 'A';
  CHECK(!cli_recv_101(c, other, "", 0) && c_errors == 1 && c_open == 0);
  c = cli_conn(accept);
  {
    const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    CHECK(!fake_recv(c, r, strlen(r)) && c_errors == 1 && c_open == 0);
  }
  c = cli_conn(accept);
  {
    char r[256];
    snprintf(r, sizeof(r), "HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
             accept);  // no Upgrade
    CHECK(!fake_recv(c, r, strlen(r)) && c_errors == 1 && c_open == 0);
  }
  // A client that closes first
  c = cli_conn(accept);
  CHECK(cli_recv_101(c, accept, "", 0) && c_open == 1);
  mg_ws_close(c, 1000, "done", 4);
  ofs = 0;
  CHECK(fake_finish(c) && out_frame(&ofs, &b0, &p, &n) && b0 == 0x88 && n == 6 &&
        memcmp(p, "\x03\xe8" "done", 6) == 0);
  CHECK(!fake_recv(c, "\x88\x02\x03\xe8", 4));
}

int main(void) {
  mg_log_set(MG_LL_NONE);
  test_sha1();
  test_base64();
  mg_mgr_init(&s_mgr);
  s_lsn = mg_http_listen(&s_mgr, "http://0.0.0.0:8000", srv_fn, NULL);
  CHECK(s_lsn != NULL);
  test_handshake();
  test_pipelined();
  test_sizes();
  test_protocol_errors();
  test_fragments();
  test_byte_by_byte();
  test_utf8();
  test_limits();
  test_close();
  test_client();
  CHECK(s_errors == 0);
  mg_mgr_free(&s_mgr);
  mg_iobuf_free(&fake_out);
  mg_iobuf_free(&s_msg);
  mg_iobuf_free(&s_ctl);
  mg_iobuf_free(&c_msg);
  return check_summary();
}
