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
