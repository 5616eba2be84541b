// Unit tests of JSON-RPC: handlers by pattern, results and errors, the
// JSON-RPC 2.0 error codes (-32700 parse error, -32600 invalid request,
// -32601 method not found), notifications, mg_rpc_list and mg_rpc_del.
// Every response is also parsed back with mg_json_get.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

static struct mg_rpc *s_head;
static struct mg_iobuf s_out;
static int s_calls;

// Runs one frame; the response (or "") is in s_out
static const char *process(const char *frame) {
  struct mg_rpc_req r;
  memset(&r, 0, sizeof(r));
  s_out.len = 0;
  if (s_out.buf != NULL) s_out.buf[0] = '\0';
  r.head = &s_head;
  r.pfn = mg_pfn_iobuf;
  r.pfn_data = &s_out;
  r.req_data = (void *) "req-data";
  r.frame = mg_str(frame);
  mg_rpc_process(&r);
  // Whatever came out is one valid JSON object
  if (s_out.len > 0) CHECK(mg_json_get(mg_str_n((char *) s_out.buf, s_out.len), "$", NULL) == 0);
  return s_out.len == 0 ? "" : (const char *) s_out.buf;
}

static bool resp_is(const char *frame, const char *want) {
  const char *got = process(frame);
  if (strcmp(got, want) == 0) return true;
  fprintf(stderr, "  frame %s\n  got   %s\n  want  %s\n", frame, got, want);
  return false;
}

static void sum(struct mg_rpc_req *r) {
  double a = 0, b = 0;
  s_calls++;
  CHECK(r->rpc != NULL && r->rpc->fn == sum && strcmp((char *) r->rpc->fn_data, "sum-data") == 0);
  CHECK(strcmp((char *) r->req_data, "req-data") == 0);
  if (mg_json_get_num(r->frame, "$.params[0]", &a) &&
      mg_json_get_num(r->frame, "$.params[1]", &b)) {
    mg_rpc_ok(r, "%g", a + b);
  } else {
    mg_rpc_err(r, MG_RPC_INVALID_PARAMS, "%m", MG_ESC("need two numbers"));
  }
}

static void echo(struct mg_rpc_req *r) {
  struct mg_str p = mg_json_get_tok(r->frame, "$.params");
  s_calls++;
  if (p.buf == NULL) p = mg_str("null");
  mg_rpc_ok(r, "%.*s", (int) p.len, p.buf);
}

static void fail(struct mg_rpc_req *r) {
  s_calls++;
  mg_rpc_err(r, 123, "{\"text\":%m}", MG_ESC("no\n"));
}

static void test_rpc(void) {
  mg_rpc_add(&s_head, mg_str("sum"), sum, (void *) "sum-data");
  mg_rpc_add(&s_head, mg_str("echo.*"), echo, NULL);
  mg_rpc_add(&s_head, mg_str("fail"), fail, NULL);
  mg_rpc_add(&s_head, mg_str("rpc.list"), mg_rpc_list, NULL);

  CHECK(resp_is("{\"id\":1,\"method\":\"sum\",\"params\":[1,2]}", "{\"id\":1,\"result\":3}"));
  CHECK(resp_is("{\"jsonrpc\":\"2.0\",\"method\":\"sum\",\"params\":[1.5,2],\"id\":\"x\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":3.5}"));
  CHECK(resp_is(" { \"method\" : \"sum\" , \"id\" : -7 , \"params\" : [ 1 , 2 ] } ",
                "{\"id\":-7,\"result\":3}"));
  CHECK(resp_is("{\"id\":null,\"method\":\"sum\",\"params\":[1,1]}",
                "{\"id\":null,\"result\":2}"));
  CHECK(resp_is("{\"id\":2,\"method\":\"sum\",\"params\":[1]}",
                "{\"id\":2,\"error\":{\"code\":-32602,\"message\":\"need two numbers\"}}"));
  CHECK(resp_is("{\"id\":3,\"method\":\"echo.x\",\"params\":{\"a\":[1,{}]}}",
                "{\"id\":3,\"result\":{\"a\":[1,{}]}}"));
  CHECK(resp_is("{\"id\":4,\"method\":\"echo.y\"}", "{\"id\":4,\"result\":null}"));
  CHECK(resp_is("{\"id\":5,\"method\":\"echo.a/b\"}",
                "{\"id\":5,\"error\":{\"code\":-32601,\"message\":\"method not found\"}}"));
  CHECK(resp_is("{\"id\":6,\"method\":\"fail\"}",
                "{\"id\":6,\"error\":{\"code\":123,\"message\":{\"text\":\"no\\n\"}}}"));
  CHECK(resp_is("{\"id\":7,\"method\":\"rpc.list\"}",
                "{\"id\":7,\"result\":[\"sum\",\"echo.*\",\"fail\",\"rpc.list\"]}"));
  CHECK(resp_is("{\"id\":8,\"method\":\"\\u0073um\",\"params\":[2,2]}",
                "{\"id\":8,\"result\":4}"));  // the name is unescaped
  // Unknown method
  CHECK(resp_is("{\"id\":9,\"method\":\"nope\"}",
                "{\"id\":9,\"error\":{\"code\":-32601,\"message\":\"method not found\"}}"));
  // Notifications: handlers run, nothing is printed (not even errors)
  s_calls = 0;
  CHECK(resp_is("{\"method\":\"sum\",\"params\":[1,2]}", ""));
  CHECK(resp_is("{\"jsonrpc\":\"2.0\",\"method\":\"fail\"}", ""));
  CHECK(resp_is("{\"method\":\"nope\"}", ""));
  CHECK(s_calls == 2);
  // Parse errors and invalid requests get an answer with a null id
  CHECK(resp_is("{\"id\":1,\"method\":\"sum\"",
                "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                "\"message\":\"parse error\"}}"));
  CHECK(resp_is("", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                    "\"message\":\"parse error\"}}"));
  CHECK(resp_is("[1,2]", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                         "\"message\":\"invalid request\"}}"));
  CHECK(resp_is("42", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                      "\"message\":\"invalid request\"}}"));
  CHECK(resp_is("{\"id\":1}", "{\"id\":1,\"error\":{\"code\":-32600,"
                              "\"message\":\"invalid request\"}}"));
  CHECK(resp_is("{\"id\":1,\"method\":5}", "{\"id\":1,\"error\":{\"code\":-32600,"
                                           "\"message\":\"invalid request\"}}"));
  CHECK(resp_is("{\"method\":1}", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                                  "\"message\":\"invalid request\"}}"));
  CHECK(resp_is("{\"id\":[1],\"method\":\"sum\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
                "\"message\":\"invalid id\"}}"));
  // No printer: nothing happens
  {
    struct mg_rpc_req r;
    memset(&r, 0, sizeof(r));
    r.head = &s_head;
    r.req_data = (void *) "req-data";
    r.frame = mg_str("{\"id\":1,\"method\":\"sum\",\"params\":[1,2]}");
    mg_rpc_process(&r);
    r.frame = mg_str("garbage");
    mg_rpc_process(&r);
  }
  // An empty list
  {
    struct mg_rpc *none = NULL;
    struct mg_rpc_req r;
    memset(&r, 0, sizeof(r));
    s_out.len = 0;
    r.head = &none;
    r.pfn = mg_pfn_iobuf;
    r.pfn_data = &s_out;
    r.frame = mg_str("{\"id\":1,\"method\":\"x\"}");
    mg_rpc_process(&r);
    CHECK(strcmp((char *) s_out.buf,
                 "{\"id\":1,\"error\":{\"code\":-32601,\"message\":\"method not found\"}}") == 0);
  }
  // mg_rpc_del: one handler, then all
  mg_rpc_del(&s_head, echo);
  CHECK(resp_is("{\"id\":7,\"method\":\"rpc.list\"}",
                "{\"id\":7,\"result\":[\"sum\",\"fail\",\"rpc.list\"]}"));
  CHECK(resp_is("{\"id\":3,\"method\":\"echo.x\"}",
                "{\"id\":3,\"error\":{\"code\":-32601,\"message\":\"method not found\"}}"));
  mg_rpc_del(&s_head, NULL);
  CHECK(s_head == NULL);
  // First added, first tried
  mg_rpc_add(&s_head, mg_str("*"), echo, NULL);
  mg_rpc_add(&s_head, mg_str("sum"), sum, (void *) "sum-data");
  CHECK(resp_is("{\"id\":1,\"method\":\"sum\",\"params\":[1,2]}", "{\"id\":1,\"result\":[1,2]}"));
  mg_rpc_del(&s_head, NULL);
  mg_iobuf_free(&s_out);
}

int main(void) {
  test_rpc();
  return check_summary();
}
