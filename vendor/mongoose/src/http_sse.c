// Responses over time: the head of a chunked response, and Server-Sent Events
// (the text/event-stream format of the HTML Living Standard, "Server-sent
// events") framed as HTTP chunks. The chunks themselves are written by
// mg_http_write_chunk / mg_http_printf_chunk (http.c); an empty chunk ends
// the response and lets the next pipelined request in.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

static bool sse_put(struct mg_connection *c, const void *buf, size_t len) {
  return len == 0 || mg_iobuf_add(&c->send, c->send.len, buf, len) != 0;
}

void mg_http_chunked_start(struct mg_connection *c, int status,
                           const char *hdrs, size_t hlen) {
  char line[64];
  size_t n, start = c->send.len;
  if (status < 100 || status > 999) status = 500;
  n = mg_snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status,
                  mg_http_status_text(status));
  if (hdrs == NULL) hlen = 0;
  if (!sse_put(c, line, n) || !sse_put(c, hdrs, hlen) ||
      (c->is_close_after && !sse_put(c, "Connection: close\r\n", 19)) ||
      !sse_put(c, "Transfer-Encoding: chunked\r\n\r\n", 30)) {
    c->send.len = start;
    mg_error(c, "out of memory");
    return;
  }
  mg_io_check(c);
}

void mg_http_sse_start(struct mg_connection *c, const char *hdrs, size_t hlen) {
  static const char h[] =
      "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n";
  size_t n = sizeof(h) - 1;
  char *all;
  if (hdrs == NULL) hlen = 0;
  if ((all = (char *) malloc(n + hlen + 1)) == NULL) {
    mg_error(c, "out of memory");
    return;
  }
  memcpy(all, h, n);
  if (hlen > 0) memcpy(all + n, hdrs, hlen);
  mg_http_chunked_start(c, 200, all, n + hlen);
  free(all);
}

// Length of a field value up to its first line break (a value cannot hold one)
static size_t sse_field_len(const char *s, size_t len) {
  size_t i = 0;
  while (i < len && s[i] != '\r' && s[i] != '\n') i++;
  return i;
}

// Writes "name: value\n" into out (when non-NULL); returns its length
static size_t sse_field(char *out, const char *name, const char *v, size_t n) {
  size_t nl = strlen(name);
  if (out != NULL) {
    memcpy(out, name, nl);
    memcpy(out + nl, ": ", 2);
    if (n > 0) memcpy(out + nl + 2, v, n);
    out[nl + 2 + n] = '\n';
  }
  return nl + 3 + n;
}

// Builds the event into out (NULL: measure only); returns its length
static size_t sse_build(char *out, const char *event, size_t elen,
                        const char *data, size_t dlen, const char *id,
                        size_t ilen, long retry) {
  size_t n = 0, i = 0;
  char num[24];
  if (event != NULL && elen > 0) {
    n += sse_field(out ? out + n : NULL, "event", event, elen);
  }
  if (id != NULL) n += sse_field(out ? out + n : NULL, "id", id, ilen);
  if (retry >= 0) {
    size_t k = mg_snprintf(num, sizeof(num), "%ld", retry);
    n += sse_field(out ? out + n : NULL, "retry", num, k);
  }
  // Every line of data (CRLF, CR and LF all break lines) gets "data: "; a
  // break at the end gives an empty last line, so the client keeps it
  for (;;) {
    size_t k = sse_field_len(data + i, dlen - i);
    n += sse_field(out ? out + n : NULL, "data", data + i, k);
    i += k;
    if (i >= dlen) break;
    i += (data[i] == '\r' && i + 1 < dlen && data[i + 1] == '\n') ? 2 : 1;
  }
  if (out != NULL) out[n] = '\n';
  return n + 1;
}

void mg_http_sse(struct mg_connection *c, const char *event, const char *data,
                 size_t dlen, const char *id, long retry) {
  if (data == NULL) data = "", dlen = 0;
  size_t elen = event == NULL ? 0 : sse_field_len(event, strlen(event));
  size_t ilen = id == NULL ? 0 : sse_field_len(id, strlen(id));
  size_t n = sse_build(NULL, event, elen, data, dlen, id, ilen, retry);
  char *buf = (char *) malloc(n);
  if (buf == NULL) {
    mg_error(c, "out of memory");
    return;
  }
  sse_build(buf, event, elen, data, dlen, id, ilen, retry);
  mg_http_write_chunk(c, buf, n);
  free(buf);
}

// ---- Router helpers ---------------------------------------------------------
size_t mg_http_split_vars(const char *s, size_t n, char *dst,
                          struct mg_str *out, size_t max) {
  size_t i = 0, pairs = 0, used = 0;
  while (i < n && pairs < max) {
    size_t start = i, eq = SIZE_MAX, end;
    int a, b;
    while (i < n && s[i] != '&') {
      if (s[i] == '=' && eq == SIZE_MAX) eq = i;
      i++;
    }
    end = i++;
    if (end == start) continue;  // "&&"
    if (eq == SIZE_MAX) eq = end;
    a = mg_url_decode(s + start, eq - start, dst + used, n - used + 1, 1);
    if (a < 0) continue;
    out[2 * pairs] = mg_str_n(dst + used, (size_t) a);
    used += (size_t) a;
    b = eq == end ? 0 : mg_url_decode(s + eq + 1, end - eq - 1, dst + used, n - used + 1, 1);
    if (b < 0) continue;
    out[2 * pairs + 1] = mg_str_n(dst + used, (size_t) b);
    used += (size_t) b;
    pairs++;
  }
  return pairs;
}
