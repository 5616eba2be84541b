// Exports for request bodies streamed as they arrive (serve(), see wasm/ABI.md).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define EXPORT(name) __attribute__((export_name(name)))

void mgw_enter(void);  // wasm/driver.c: every export that can fire events
void mgw_leave(void);  // runs between these two

// During MG_EV_HTTP_HDRS: mg_http_body_stream(c, hm). The body then arrives
// as MG_EV_HTTP_BODY events (ev_data: struct mg_str *, NULL if malformed;
// an empty one at the end). Returns 1 if streaming, 0 if not.
EXPORT("mgw_body_stream")
int mgw_body_stream(struct mg_connection *c, struct mg_http_message *hm) {
  int ok;
  mgw_enter();
  ok = mg_http_body_stream(c, hm) ? 1 : 0;
  mgw_leave();
  return ok;
}

// Per JS handler id: MG_EV_HTTP_HDRS crosses into JS only for requests whose
// body is chunked or has a Content-Length above this many bytes (stored + 1;
// 0: every MG_EV_HTTP_HDRS crosses). serve() sets it on its listener, so a
// small request costs no extra crossing.
static uint64_t *s_thr;
static size_t s_nthr;

EXPORT("mgw_body_threshold")
int mgw_body_threshold(struct mg_connection *lsn, double bytes) {
  size_t h = (size_t) (uintptr_t) lsn->fn_data;
  if (h >= s_nthr) {
    size_t n = h + 16;
    uint64_t *p = (uint64_t *) realloc(s_thr, n * sizeof(*p));
    if (p == NULL) return 0;
    memset(p + s_nthr, 0, (n - s_nthr) * sizeof(*p));
    s_thr = p, s_nthr = n;
  }
  s_thr[h] = bytes < 0 ? 0 : (uint64_t) bytes + 1;
  return 1;
}

// wasm/driver.c asks before MG_EV_HTTP_HDRS crosses to handler h
bool mgw_hdrs_wanted(size_t h, struct mg_http_message *hm) {
  struct mg_str *v;
  uint64_t n = 0;
  size_t i;
  if (h >= s_nthr || s_thr[h] == 0) return true;
  if (mg_http_get_header(hm, "Transfer-Encoding") != NULL) return true;
  if ((v = mg_http_get_header(hm, "Content-Length")) == NULL) return false;
  for (i = 0; i < v->len && v->buf[i] >= '0' && v->buf[i] <= '9' && n < (1ULL << 60); i++) {
    n = n * 10 + (uint64_t) (v->buf[i] - '0');
  }
  return n >= s_thr[h];  // above the threshold (stored + 1)
}
