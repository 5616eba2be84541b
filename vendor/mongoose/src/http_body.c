// wasmgoose — request bodies streamed as they arrive (mg_http_body_stream) and
// the incremental chunked decoder it uses (mg_http_chunked_step).
// Written from RFC 9112 (sections 6 and 7.1) and the API in mongoose.h.
// SPDX-License-Identifier: MIT
#include <limits.h>

#include "mongoose.h"

#define BODY_CHUNK_LINE_MAX 256  // longest chunk-size line (with extensions)

// ---- Incremental chunked decoding ---------------------------------------------------
static int body_hex(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// Length of the line at s[0..len) without its "\r\n" or "\n"; *next is set
// past the break. -1: no break yet (within max bytes); -2: malformed (a
// control character, a CR not followed by LF, or longer than max).
static long body_line(const char *s, size_t len, size_t max, size_t *next) {
  size_t i;
  for (i = 0; i < len && i < max; i++) {
    unsigned char ch = (unsigned char) s[i];
    if (ch == '\n') {
      *next = i + 1;
      return (long) (i > 0 && s[i - 1] == '\r' ? i - 1 : i);
    }
    if (ch == '\r' ? i + 1 < len && s[i + 1] != '\n' : ch < ' ' && ch != '\t') {
      return -2;
    }
  }
  return i < max ? -1 : -2;
}

static long chunked_fail(struct mg_http_chunked *ck) {
  ck->state = MG_HTTP_CHUNKED_ERROR;
  return -1;
}

long mg_http_chunked_step(struct mg_http_chunked *ck, const char *buf,
                          size_t len, struct mg_str *data) {
  size_t next = 0, k = 0;
  uint64_t sz = 0;
  long ll;
  data->buf = NULL, data->len = 0;
  switch (ck->state) {
    case MG_HTTP_CHUNKED_SIZE:
      ll = body_line(buf, len, BODY_CHUNK_LINE_MAX, &next);
      if (ll == -1) return 0;
      if (ll < 0) return chunked_fail(ck);
      for (; k < (size_t) ll && body_hex((unsigned char) buf[k]) >= 0; k++) {
        if (k >= 15) return chunked_fail(ck);  // 2^60 bytes is plenty
        sz = sz << 4 | (uint64_t) body_hex((unsigned char) buf[k]);
      }
      while (k > 0 && k < (size_t) ll && (buf[k] == ' ' || buf[k] == '\t')) k++;
      if (k == 0 || (k < (size_t) ll && buf[k] != ';')) return chunked_fail(ck);
      ck->left = sz;
      ck->state = sz == 0 ? MG_HTTP_CHUNKED_TRAILER : MG_HTTP_CHUNKED_DATA;
      return (long) next;
    case MG_HTTP_CHUNKED_DATA:
      k = (uint64_t) len < ck->left ? len : (size_t) ck->left;
      if (k > (size_t) LONG_MAX) k = (size_t) LONG_MAX;
      data->buf = (char *) buf, data->len = k;
      ck->left -= k;
      if (ck->left == 0) ck->state = MG_HTTP_CHUNKED_DATA_END;
      return (long) k;
    case MG_HTTP_CHUNKED_DATA_END:  // data ends with a line break
      ll = body_line(buf, len, 2, &next);
      if (ll == -1) return 0;
      if (ll != 0) return chunked_fail(ck);
      ck->state = MG_HTTP_CHUNKED_SIZE;
      return (long) next;
    case MG_HTTP_CHUNKED_TRAILER:  // trailer lines, up to an empty line
      ll = body_line(buf, len, MG_HTTP_MAX_HEAD - ck->tlen, &next);
      if (ll == -1) return 0;
      if (ll < 0) return chunked_fail(ck);
      ck->tlen += next;
      if (ll == 0) ck->state = MG_HTTP_CHUNKED_DONE;
      return (long) next;
    case MG_HTTP_CHUNKED_DONE:
      return 0;
    default:
      return -1;
  }
}

// ---- Streamed request bodies --------------------------------------------------------
struct body_stream {
  struct mg_http_hook hook;  // first: c->pfn_data points here
  struct mg_http_chunked ck;
  uint64_t left;  // Content-Length: bytes still to come
  bool chunked;
};

static void body_fire(struct mg_connection *c, struct mg_str *piece) {
  if (c->fn != NULL) c->fn(c, MG_EV_HTTP_BODY, piece);
}

// The body has ended (ok) or is malformed: unhook, then tell the handler
static void body_end(struct mg_connection *c, struct body_stream *bs, bool ok) {
  struct mg_str end = {NULL, 0};
  if (c->pfn_data == bs) c->pfn_data = NULL;
  free(bs);
  c->is_http_body = 0;
  if (!ok) {
    mg_iobuf_del(&c->recv, 0, c->recv.len);
    c->is_close_after = 1;
    if (!c->is_resp) c->is_draining = 1;  // answered already
  } else if (c->recv.len > 0) {
    c->is_resume = 1;  // the next pipelined request, once answered
  }
  mg_io_check(c);
  body_fire(c, ok ? &end : NULL);
}

static void body_ev(struct mg_connection *c, int ev, void *ev_data) {
  struct body_stream *bs = (struct body_stream *) c->pfn_data;
  size_t ofs = 0;
  if (ev == MG_EV_CLOSE) {
    c->pfn_data = NULL;
    free(bs);
    return;
  }
  if (ev != MG_EV_READ) return;
  c->is_http_body = 1;  // a body is arriving (timeouts, shutdown)
  while (ofs < c->recv.len && !c->is_closing) {
    struct mg_str piece = {NULL, 0};
    bool done;
    if (c->is_full) {  // the handler paused: the rest waits until it resumes
      c->is_resume = 1;
      break;
    }
    if (bs->chunked) {
      long r = mg_http_chunked_step(&bs->ck, (char *) c->recv.buf + ofs,
                                    c->recv.len - ofs, &piece);
      if (r < 0) {
        body_end(c, bs, false);
        return;
      }
      if (r == 0) break;  // an incomplete line
      ofs += (size_t) r;
      done = bs->ck.state == MG_HTTP_CHUNKED_DONE;
    } else {
      size_t n = c->recv.len - ofs;
      if ((uint64_t) n > bs->left) n = (size_t) bs->left;
      piece.buf = (char *) c->recv.buf + ofs, piece.len = n;
      ofs += n, bs->left -= n;
      done = bs->left == 0;
    }
    if (piece.len > 0) body_fire(c, &piece);
    if (done) {
      mg_iobuf_del(&c->recv, 0, ofs);
      body_end(c, bs, true);
      return;
    }
  }
  mg_iobuf_del(&c->recv, 0, ofs);
  (void) ev_data;
}

static bool body_ieq(struct mg_str s, const char *lit) {
  size_t i;
  for (i = 0; i < s.len && lit[i] != '\0'; i++) {
    int a = (unsigned char) s.buf[i], b = (unsigned char) lit[i];
    if (a >= 'A' && a <= 'Z') a += 'a' - 'A';
    if (a != b) return false;
  }
  return i == s.len && lit[i] == '\0';
}

bool mg_http_body_stream(struct mg_connection *c, struct mg_http_message *hm) {
  struct mg_str *te = mg_http_get_header(hm, "Transfer-Encoding");
  struct mg_str *cl = mg_http_get_header(hm, "Content-Length");
  struct mg_str *ex = mg_http_get_header(hm, "Expect");
  struct body_stream *bs;
  uint64_t size = 0;
  size_t i;
  if (c->pfn_data != NULL || !c->is_http_body || c->is_closing || c->is_listening ||
      c->is_client) {
    return false;  // not at MG_EV_HTTP_HDRS of a server connection
  }
  if (te != NULL) {  // the server accepted the framing (no Content-Length)
    if (!body_ieq(*te, "chunked")) return false;
  } else if (cl != NULL && cl->len > 0 && cl->len <= 19) {
    for (i = 0; i < cl->len; i++) {
      if (cl->buf[i] < '0' || cl->buf[i] > '9') return false;
      size = size * 10 + (uint64_t) (cl->buf[i] - '0');
    }
    if (size == 0) return false;
  } else {
    return false;
  }
  if ((bs = (struct body_stream *) calloc(1, sizeof(*bs))) == NULL) {
    mg_error(c, "out of memory");
    return false;
  }
  bs->hook.fn = body_ev;
  bs->hook.is_body = true;
  bs->chunked = te != NULL;
  bs->left = size;
  if (ex != NULL && body_ieq(*ex, "100-continue") && hm->proto.len == 8 &&
      hm->proto.buf[7] == '1' && c->recv.len <= hm->head.len) {
    mg_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  }
  c->pfn_data = bs;  // http.c hands the body over (body_ev)
  return true;
}
