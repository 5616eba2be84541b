// Exports for chunked responses, Server-Sent Events and the WebSocket upgrade
// of serve() (see wasm/ABI.md).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define EXPORT(name) __attribute__((export_name(name)))

void mgw_enter(void);  // wasm/driver.c: every export that can fire events
void mgw_leave(void);  // runs between these two

EXPORT("mgw_chunk_start")
void mgw_chunk_start(struct mg_connection *c, int status, const char *hdrs,
                     int hlen, int sse) {
  mgw_enter();
  if (sse) {
    mg_http_sse_start(c, hdrs, (size_t) hlen);
  } else {
    mg_http_chunked_start(c, status, hdrs, (size_t) hlen);
  }
  mgw_leave();
}

EXPORT("mgw_chunk")
void mgw_chunk(struct mg_connection *c, const char *buf, int len) {
  mgw_enter();
  mg_http_write_chunk(c, buf, (size_t) len);
  mgw_leave();
}

// event and id are NUL-terminated (NULL when 0)
EXPORT("mgw_sse")
void mgw_sse(struct mg_connection *c, const char *event, const char *id,
             const char *data, int dlen, double retry) {
  mgw_enter();
  mg_http_sse(c, event, data, (size_t) dlen, id, retry < 0 ? -1 : (long) retry);
  mgw_leave();
}

// Upgrades c to WebSocket from a copy of the request's head (a request line
// and headers, as text), for a handler that answers after its event returned.
// Returns 1 if the head parsed.
EXPORT("mgw_ws_upgrade_head")
int mgw_ws_upgrade_head(struct mg_connection *c, const char *req, int rlen,
                        const char *hdrs, int hlen) {
  struct mg_http_message hm;
  if (mg_http_parse(req, (size_t) rlen, &hm) <= 0) return 0;
  mgw_enter();
  mg_ws_upgrade(c, &hm, hlen > 0 ? "%.*s" : NULL, hlen, hdrs);
  if (c->recv.len > 0) c->is_resume = 1;  // frames that came early
  mg_io_check(c);
  mgw_leave();
  return 1;
}

// mg_http_split_vars: pairs written at out (4 words each: name ptr, len,
// value ptr, len); dst needs n + 1 bytes
EXPORT("mgw_http_vars")
int mgw_http_vars(const char *s, int n, char *dst, struct mg_str *out, int max) {
  return (int) mg_http_split_vars(s, (size_t) n, dst, out, (size_t) max);
}
