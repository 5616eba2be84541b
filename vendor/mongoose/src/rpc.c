// wasmgoose — JSON-RPC 2.0 (https://www.jsonrpc.org/specification) over any
// transport: handlers registered by method pattern, responses printed
// through the request's pfn.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

void mg_rpc_add(struct mg_rpc **head, struct mg_str method_pattern,
                void (*fn)(struct mg_rpc_req *), void *fn_data) {
  struct mg_rpc *rpc = (struct mg_rpc *) calloc(1, sizeof(*rpc)), **p;
  if (rpc == NULL) return;
  rpc->method = mg_strdup(method_pattern);
  if (rpc->method.buf == NULL) {
    free(rpc);
    return;
  }
  rpc->fn = fn;
  rpc->fn_data = fn_data;
  for (p = head; *p != NULL;) p = &(*p)->next;  // first added, first tried
  *p = rpc;
}

// Removes every handler that is fn (all of them if fn is NULL)
void mg_rpc_del(struct mg_rpc **head, void (*fn)(struct mg_rpc_req *)) {
  struct mg_rpc **p = head;
  while (*p != NULL) {
    struct mg_rpc *r = *p;
    if (fn == NULL || r->fn == fn) {
      *p = r->next;
      free(r->method.buf);
      free(r);
    } else {
      p = &r->next;
    }
  }
}

// Prints {["jsonrpc":"2.0",]"id":ID,<what>}; "jsonrpc" is echoed when the
// request had it (and always with a null id, which only errors use)
static void respond(struct mg_rpc_req *r, struct mg_str id, bool v2,
                    const char *what, int code, const char *fmt, va_list *ap) {
  if (r->pfn == NULL) return;
  mg_xprintf(r->pfn, r->pfn_data, "{%s\"id\":%.*s,", v2 ? "\"jsonrpc\":\"2.0\"," : "",
             (int) id.len, id.buf);
  if (code != 0) {
    mg_xprintf(r->pfn, r->pfn_data, "\"error\":{\"code\":%d,\"message\":", code);
  } else {
    mg_xprintf(r->pfn, r->pfn_data, "\"%s\":", what);
  }
  if (fmt != NULL) {
    mg_vxprintf(r->pfn, r->pfn_data, fmt, ap);
  } else {
    mg_xprintf(r->pfn, r->pfn_data, "null");
  }
  mg_xprintf(r->pfn, r->pfn_data, code != 0 ? "}}" : "}");
}

static bool has_v2(struct mg_rpc_req *r) {
  return mg_json_get(r->frame, "$.jsonrpc", NULL) >= 0;
}

void mg_rpc_vok(struct mg_rpc_req *r, const char *fmt, va_list *ap) {
  struct mg_str id = mg_json_get_tok(r->frame, "$.id");
  if (id.len == 0) return;  // a notification: no response
  respond(r, id, has_v2(r), "result", 0, fmt, ap);
}

void mg_rpc_ok(struct mg_rpc_req *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_rpc_vok(r, fmt, &ap);
  va_end(ap);
}

void mg_rpc_verr(struct mg_rpc_req *r, int code, const char *fmt, va_list *ap) {
  struct mg_str id = mg_json_get_tok(r->frame, "$.id");
  if (id.len == 0) return;
  respond(r, id, has_v2(r), "error", code == 0 ? -32603 : code, fmt, ap);
}

void mg_rpc_err(struct mg_rpc_req *r, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_rpc_verr(r, code, fmt, &ap);
  va_end(ap);
}

// An error for a request whose id cannot be used: "id" is null
static void err_null_id(struct mg_rpc_req *r, int code, const char *msg, ...) {
  va_list ap;
  va_start(ap, msg);
  respond(r, mg_str("null"), true, "error", code, msg, &ap);
  va_end(ap);
}

static size_t print_methods(mg_pfn_t out, void *arg, va_list *ap) {
  struct mg_rpc *h = va_arg(*ap, struct mg_rpc *);
  size_t n = mg_xprintf(out, arg, "[");
  for (; h != NULL; h = h->next) {
    n += mg_xprintf(out, arg, "%m%s", mg_print_esc, (int) h->method.len,
                    h->method.buf, h->next == NULL ? "" : ",");
  }
  return n + mg_xprintf(out, arg, "]");
}

void mg_rpc_list(struct mg_rpc_req *r) {
  mg_rpc_ok(r, "%M", print_methods, r->head == NULL ? NULL : *r->head);
}

void mg_rpc_process(struct mg_rpc_req *r) {
  struct mg_str method, id;
  char name[256];
  struct mg_rpc *h;
  int len, ofs = mg_json_get(r->frame, "$", &len);
  if (ofs < 0) {
    err_null_id(r, MG_RPC_PARSE_ERROR, "\"parse error\"");
    return;
  }
  if (r->frame.buf[ofs] != '{') {  // (batches are not supported)
    err_null_id(r, MG_RPC_INVALID_REQUEST, "\"invalid request\"");
    return;
  }
  id = mg_json_get_tok(r->frame, "$.id");
  if (id.len > 0 && (id.buf[0] == '{' || id.buf[0] == '[' || id.buf[0] == 't' ||
                     id.buf[0] == 'f')) {
    err_null_id(r, MG_RPC_INVALID_REQUEST, "\"invalid id\"");
    return;
  }
  method = mg_json_get_tok(r->frame, "$.method");
  if (method.len < 2 || method.buf[0] != '"') {
    if (id.len == 0) {
      err_null_id(r, MG_RPC_INVALID_REQUEST, "\"invalid request\"");
    } else {
      mg_rpc_err(r, MG_RPC_INVALID_REQUEST, "\"invalid request\"");
    }
    return;
  }
  method = mg_str_n(method.buf + 1, method.len - 2);
  if (mg_json_unescape(method, name, sizeof(name))) {
    method = mg_str_n(name, strlen(name));  // (a name with \u0000 is cut)
  }
  for (h = r->head == NULL ? NULL : *r->head; h != NULL; h = h->next) {
    if (mg_match(method, h->method, NULL)) {
      r->rpc = h;
      h->fn(r);
      return;
    }
  }
  mg_rpc_err(r, MG_RPC_METHOD_NOT_FOUND, "\"method not found\"");
}
