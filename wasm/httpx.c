// WASM exports of the HTTP extras: multipart parts, credentials, client HEAD.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define EXPORT(name) __attribute__((export_name(name)))

static struct mg_http_part s_part;  // the last part mgw_next_multipart found

// mg_http_next_multipart over body[0..blen) from ofs; the part is at
// mgw_multipart_part() until the next call.
EXPORT("mgw_next_multipart")
int mgw_next_multipart(const char *body, int blen, int ofs) {
  return (int) mg_http_next_multipart(mg_str_n(body, (size_t) blen),
                                      (size_t) ofs, &s_part);
}

EXPORT("mgw_multipart_part") struct mg_http_part *mgw_multipart_part(void) {
  return &s_part;
}

// mg_http_creds into user[0..ulen) and pass[0..plen) (NUL-terminated)
EXPORT("mgw_http_creds")
void mgw_http_creds(struct mg_http_message *hm, char *user, int ulen,
                    char *pass, int plen) {
  mg_http_creds(hm, user, (size_t) ulen, pass, (size_t) plen);
}

// A client connection: the next response answers a HEAD request (no body)
EXPORT("mgw_http_head") void mgw_http_head(struct mg_connection *c, int on) {
  c->is_head = on ? 1 : 0;
}
