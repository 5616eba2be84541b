// libFuzzer target: the WebSocket frame parser, server side. A connection is
// upgraded with a valid handshake, then the input arrives as frames, split
// into reads at places chosen by the first input byte. The handler echoes
// every message. Checks: messages and control frames lie inside c->recv,
// text messages are valid UTF-8 by then, c->recv stays bounded, no leak or
// memory error (ASan), no crash.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "fuzz_common.h"

#define UPGRADE                                                         \
  "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"               \
  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"                \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, at most U+10FFFF
static bool utf8_ok(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i], len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2
                                     : c >= 0xe0 && c < 0xf0   ? 3
                                     : c >= 0xf0 && c < 0xf5   ? 4
                                                               : 0;
    unsigned lo = 0x80, hi = 0xbf, k;
    if (len == 0 || i + len > n) return false;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    for (k = 1; k < len; k++, lo = 0x80, hi = 0xbf) {
      if (s[i + k] < lo || s[i + k] > hi) return false;
    }
    i += len;
  }
  return true;
}

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    mg_ws_upgrade(c, (struct mg_http_message *) ev_data, NULL);
  } else if (ev == MG_EV_WS_MSG || ev == MG_EV_WS_CTL) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    FUZZ_CHECK(fuzz_inside(wm->data, c->recv.buf, c->recv.len, true));
    if (ev == MG_EV_WS_MSG) {
      FUZZ_CHECK(wm->data.len <= MG_WS_MAX_MSG);
      if ((wm->flags & 15) == WEBSOCKET_OP_TEXT) {
        FUZZ_CHECK(utf8_ok((const unsigned char *) wm->data.buf, wm->data.len));
      }
      mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 15);
    } else {
      FUZZ_CHECK(wm->data.len <= 125);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  unsigned long id;
  size_t ofs = 1, step = size > 0 ? (size_t) (data[0] % 17) + 1 : 1;
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&mgr);
  c = fake_accept(mg_http_listen(&mgr, "http://127.0.0.1:1", handler, NULL));
  FUZZ_CHECK(c != NULL);
  id = c->id;
  FUZZ_CHECK(fake_recv(c, UPGRADE, sizeof(UPGRADE) - 1) && c->is_websocket);
  while (ofs < size && fake_alive(&mgr, id)) {
    size_t n = size - ofs < step ? size - ofs : step;
    char *chunk = fuzz_dup(data + ofs, n);  // exact size: ASan sees overreads
    if (fake_recv(c, chunk, n)) FUZZ_CHECK(c->recv.len <= MG_MAX_RECV_SIZE);
    free(chunk);
    ofs += n;
    step = step * 3 % 97 + 1;  // varied split points
  }
  fake_reset();
  mg_mgr_free(&mgr);
  return 0;
}
