// libFuzzer target: JSON-RPC. The input is one frame for mg_rpc_process
// with a few handlers (sum, echo.*, fail, rpc.list). Checks: the output is
// empty or one valid JSON object with an id and either a result or an error
// with a numeric code; a frame that is not JSON gets -32700; a valid
// request without id (a notification) gets no output; no leak.
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"
#include <math.h>

static struct mg_rpc *s_head;

static void sum(struct mg_rpc_req *r) {
  double a = 0, b = 0;
  // A number too large for a double reads as infinity, which %g prints as
  // "inf" (not JSON): a handler must refuse it (found by this target)
  if (mg_json_get_num(r->frame, "$.params[0]", &a) &&
      mg_json_get_num(r->frame, "$.params[1]", &b) && isfinite(a + b)) {
    mg_rpc_ok(r, "%g", a + b);
  } else {
    mg_rpc_err(r, -32602, "%m", MG_ESC("bad params"));
  }
}

static void echo(struct mg_rpc_req *r) {
  struct mg_str p = mg_json_get_tok(r->frame, "$.params");
  char *s = mg_json_get_str(r->frame, "$.params");
  if (s != NULL) {
    mg_rpc_ok(r, "%m", MG_ESC(s));  // (cut at an escaped NUL)
    free(s);
  } else if (p.buf != NULL) {
    mg_rpc_ok(r, "%.*s", (int) p.len, p.buf);
  } else {
    mg_rpc_ok(r, "null");
  }
}

static void fail(struct mg_rpc_req *r) {
  mg_rpc_err(r, 1, "{\"method\":%m}", mg_print_esc, (int) r->rpc->method.len,
             r->rpc->method.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *frame = fuzz_dup(data, size);
  struct mg_iobuf out = {NULL, 0, 0, 0};
  struct mg_rpc_req r;
  struct mg_str o;
  int st;
  if (s_head == NULL) {
    mg_rpc_add(&s_head, mg_str("sum"), sum, NULL);
    mg_rpc_add(&s_head, mg_str("echo.*"), echo, NULL);
    mg_rpc_add(&s_head, mg_str("fail"), fail, NULL);
    mg_rpc_add(&s_head, mg_str("rpc.list"), mg_rpc_list, NULL);
  }
  memset(&r, 0, sizeof(r));
  r.head = &s_head;
  r.pfn = mg_pfn_iobuf;
  r.pfn_data = &out;
  r.frame = mg_str_n(frame, size);
  mg_rpc_process(&r);
  o = mg_str_n((char *) out.buf, out.len);
  st = mg_json_get(r.frame, "$", NULL);
  if (st < 0) FUZZ_CHECK(o.len > 0 && mg_json_get_long(o, "$.error.code", 0) == -32700);
  if (o.len > 0) {
    double code;
    FUZZ_CHECK(mg_json_get(o, "$", NULL) == 0 && o.buf[0] == '{');
    FUZZ_CHECK(mg_json_get(o, "$.id", NULL) > 0);
    if (mg_json_get(o, "$.error", NULL) > 0) {
      FUZZ_CHECK(mg_json_get_num(o, "$.error.code", &code));
      FUZZ_CHECK(mg_json_get(o, "$.error.message", NULL) > 0);
    } else {
      FUZZ_CHECK(mg_json_get(o, "$.result", NULL) > 0);
    }
  } else {
    // Silence only for a well-formed notification
    struct mg_str m = mg_json_get_tok(r.frame, "$.method");
    FUZZ_CHECK(st >= 0 && frame[st] == '{');
    FUZZ_CHECK(mg_json_get(r.frame, "$.id", NULL) < 0);
    FUZZ_CHECK(m.len >= 2 && m.buf[0] == '"');
  }
  if (st >= 0 && frame[st] == '{' && mg_json_get(r.frame, "$.id", NULL) < 0) {
    struct mg_str m = mg_json_get_tok(r.frame, "$.method");
    if (m.len >= 2 && m.buf[0] == '"') FUZZ_CHECK(o.len == 0);
  }
  mg_iobuf_free(&out);
  free(frame);
  return 0;
}
