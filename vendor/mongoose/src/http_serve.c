// wasmgoose — HTTP static files (mg_http_serve_dir, mg_http_serve_file) and
// uploads (mg_http_upload_stream streamed, mg_http_upload in pieces), over any
// struct mg_fs.
// Written from RFC 9110 (conditional and range requests) and MONGOOSE_API.md.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define SERVE_PATH_MAX (MG_PATH_MAX * 2)  // root + URI path

// ---- Small helpers --------------------------------------------------------------
static int lc(int ch) {
  return ch >= 'A' && ch <= 'Z' ? ch + 'a' - 'A' : ch;
}

static bool ieq_n(const char *a, size_t an, const char *b) {
  size_t i, bn = strlen(b);
  if (an != bn) return false;
  for (i = 0; i < an; i++) {
    if (lc((unsigned char) a[i]) != lc((unsigned char) b[i])) return false;
  }
  return true;
}

static int hexv(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  ch = lc(ch);
  return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static bool is_method(const struct mg_http_message *hm, const char *m) {
  return hm->method.len == strlen(m) && memcmp(hm->method.buf, m, hm->method.len) == 0;
}

// The response is complete: as http.c does after a reply, the next pipelined
// request may be parsed (or the connection closes)
static void resp_done(struct mg_connection *c) {
  c->is_resp = 0;
  if (c->is_close_after) {
    c->is_draining = 1;
  } else if (c->recv.len > 0) {
    c->is_resume = 1;
  }
  mg_io_check(c);
}

// ---- Paths ------------------------------------------------------------------------
// One URI segment s[0..n) decoded into out (room for `room` bytes plus NUL);
// returns its length or -1 when malformed or unsafe.
static long decode_seg(const char *s, size_t n, char *out, size_t room) {
  size_t i, j = 0;
  for (i = 0; i < n; i++) {
    int ch = (unsigned char) s[i];
    if (ch == '%') {
      int hi = i + 2 < n ? hexv(s[i + 1]) : -1, lo = hi < 0 ? -1 : hexv(s[i + 2]);
      if (lo < 0) return -1;
      ch = hi << 4 | lo;
      i += 2;
    }
    // encoded '/', any backslash, NUL and control characters are refused
    if (ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f) return -1;
    if (j >= room) return -1;
    out[j++] = (char) ch;
  }
  out[j] = '\0';
  return (long) j;
}

bool mg_http_path(const char *root, struct mg_str uri, char *buf, size_t len) {
  size_t rl = root == NULL ? 0 : strlen(root), i = 0, j, k;
  if (root == NULL || len == 0 || uri.len == 0 || uri.buf[0] != '/') return false;
  if (rl == 0) root = ".", rl = 1;
  while (rl > 1 && root[rl - 1] == '/') rl--;
  if (rl + 1 >= len) return false;
  memcpy(buf, root, rl);
  j = rl;
  buf[j] = '\0';
  while (i < uri.len) {
    long n;
    while (i < uri.len && uri.buf[i] == '/') i++;
    for (k = i; k < uri.len && uri.buf[k] != '/'; k++) (void) 0;
    if (k == i) break;
    if (j + 2 >= len) return false;
    buf[j] = '/';
    n = decode_seg(uri.buf + i, k - i, buf + j + 1, len - j - 2);
    if (n < 0) return false;
    if (n == 2 && buf[j + 1] == '.' && buf[j + 2] == '.') return false;
    if (n == 0 || (n == 1 && buf[j + 1] == '.')) {  // "." or "%2e": skipped
      buf[j] = '\0';
    } else {
      j += 1 + (size_t) n;
    }
    i = k;
  }
  buf[j] = '\0';
  return true;
}

// ---- MIME types ---------------------------------------------------------------------
static const char *s_mime[] = {
    "html", "text/html; charset=utf-8",
    "htm", "text/html; charset=utf-8",
    "css", "text/css; charset=utf-8",
    "js", "text/javascript; charset=utf-8",
    "mjs", "text/javascript; charset=utf-8",
    "json", "application/json",
    "map", "application/json",
    "txt", "text/plain; charset=utf-8",
    "md", "text/markdown; charset=utf-8",
    "csv", "text/csv; charset=utf-8",
    "xml", "application/xml",
    "svg", "image/svg+xml",
    "png", "image/png",
    "jpg", "image/jpeg",
    "jpeg", "image/jpeg",
    "gif", "image/gif",
    "webp", "image/webp",
    "avif", "image/avif",
    "ico", "image/x-icon",
    "bmp", "image/bmp",
    "woff", "font/woff",
    "woff2", "font/woff2",
    "ttf", "font/ttf",
    "otf", "font/otf",
    "wasm", "application/wasm",
    "pdf", "application/pdf",
    "zip", "application/zip",
    "gz", "application/gzip",
    "tar", "application/x-tar",
    "mp3", "audio/mpeg",
    "wav", "audio/wav",
    "ogg", "audio/ogg",
    "mp4", "video/mp4",
    "webm", "video/webm",
    NULL, NULL,
};

// The Content-Type of `path`: the user's "ext1=type1,ext2=type2" first
static struct mg_str mime_type(const char *path, const char *extra) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/'), *ext;
  size_t el, i;
  if (dot == NULL || (slash != NULL && dot < slash)) {
    return mg_str("application/octet-stream");
  }
  ext = dot + 1, el = strlen(ext);
  if (extra != NULL) {
    struct mg_str s = mg_str(extra), item, k, v;
    while (mg_span(s, &item, &s, ',')) {
      if (mg_span(item, &k, &v, '=') && v.len > 0 && ieq_n(k.buf, k.len, ext)) return v;
    }
  }
  for (i = 0; s_mime[i] != NULL; i += 2) {
    if (ieq_n(ext, el, s_mime[i])) return mg_str(s_mime[i + 1]);
  }
  return mg_str("application/octet-stream");
}

// ---- Dates (IMF-fixdate, RFC 9110 5.6.7) -------------------------------------------
static const char *s_days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
static const char *s_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Civil date of day number z since 1970-01-01 (proleptic Gregorian)
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  int64_t era, yy;
  unsigned doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned) (z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  yy = (int64_t) yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned) (y - era * 400);
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t) doe - 719468;
}

static void http_date(int64_t t, char *buf, size_t len) {
  int64_t days = (t >= 0 ? t : t - 86399) / 86400, secs = t - days * 86400, y;
  unsigned m, d;
  civil(days, &y, &m, &d);
  mg_snprintf(buf, len, "%s, %02u %s %lld %02u:%02u:%02u GMT",
              s_days[((days % 7) + 7) % 7], d, s_months[m - 1], (long long) y,
              (unsigned) (secs / 3600), (unsigned) (secs / 60 % 60),
              (unsigned) (secs % 60));
}

// "Sun, 06 Nov 1994 08:49:37 GMT" into seconds; -1 if not in that form
static int64_t parse_http_date(struct mg_str s) {
  char mon[4];
  unsigned d, y, hh, mm, ss, m;
  const char *p = s.buf;
  if (s.len != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' ||
      p[16] != ' ' || p[19] != ':' || p[22] != ':' || memcmp(p + 25, " GMT", 4) != 0) {
    return -1;
  }
#define D2(i) ((unsigned) ((p[i] - '0') * 10 + (p[i + 1] - '0')))
  for (m = 0; m < 29; m++) {
    if ((m == 5 || m == 6 || m == 12 || m == 13 || m == 14 || m == 15 || m == 17 ||
         m == 18 || m == 20 || m == 21 || m == 23 || m == 24) &&
        (p[m] < '0' || p[m] > '9')) {
      return -1;
    }
  }
  d = D2(5), y = D2(12) * 100 + D2(14), hh = D2(17), mm = D2(20), ss = D2(23);
#undef D2
  memcpy(mon, p + 8, 3);
  mon[3] = '\0';
  for (m = 0; m < 12 && strcmp(mon, s_months[m]) != 0; m++) (void) 0;
  if (m == 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return -1;
  return days_from_civil(y, m + 1, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

// ---- Conditional and range requests ----------------------------------------------
// Does the If-None-Match list `v` match `etag` (weak comparison)?
static bool etag_match(struct mg_str v, const char *etag) {
  size_t i = 0, n = strlen(etag);
  while (i < v.len) {
    size_t k;
    while (i < v.len && (v.buf[i] == ' ' || v.buf[i] == '\t' || v.buf[i] == ',')) i++;
    if (i < v.len && v.buf[i] == '*') return true;
    if (i + 2 <= v.len && v.buf[i] == 'W' && v.buf[i + 1] == '/') i += 2;
    for (k = i; k < v.len && v.buf[k] != ','; k++) (void) 0;
    while (k > i && (v.buf[k - 1] == ' ' || v.buf[k - 1] == '\t')) k--;
    if (k - i == n && memcmp(v.buf + i, etag, n) == 0) return true;
    while (i < v.len && v.buf[i] != ',') i++;
  }
  return false;
}

static bool parse_u64(const char *s, size_t n, uint64_t *v) {
  size_t i;
  *v = 0;
  if (n == 0 || n > 18) return false;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    *v = *v * 10 + (uint64_t) (s[i] - '0');
  }
  return true;
}

// A single "bytes=a-b" range of a size-byte file: 1 (*start, *len set), 0 to
// ignore (absent, malformed, several ranges), -1 unsatisfiable (416).
static int parse_range(struct mg_str *h, uint64_t size, uint64_t *start,
                       uint64_t *len) {
  const char *p, *dash;
  size_t n;
  uint64_t a, b;
  if (h == NULL || h->len < 7 || !ieq_n(h->buf, 6, "bytes=")) return 0;
  p = h->buf + 6, n = h->len - 6;
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
  while (n > 0 && (*p == ' ' || *p == '\t')) p++, n--;
  if (memchr(p, ',', n) != NULL) return 0;  // several ranges: the whole file
  if ((dash = (const char *) memchr(p, '-', n)) == NULL) return 0;
  if (dash == p) {  // "-N": the last N bytes
    if (!parse_u64(dash + 1, n - 1, &b)) return 0;
    if (b == 0 || size == 0) return -1;
    if (b > size) b = size;
    *start = size - b, *len = b;
    return 1;
  }
  if (!parse_u64(p, (size_t) (dash - p), &a)) return 0;
  if (dash + 1 == p + n) {
    b = size == 0 ? 0 : size - 1;
  } else if (!parse_u64(dash + 1, (size_t) (p + n - dash - 1), &b) || b < a) {
    return 0;
  }
  if (a >= size) return -1;
  if (b >= size) b = size - 1;
  *start = a, *len = b - a + 1;
  return 1;
}

// Does Accept-Encoding allow gzip (listed without q=0)?
static bool accepts_gzip(struct mg_http_message *hm) {
  struct mg_str *v = mg_http_get_header(hm, "Accept-Encoding"), s, item;
  if (v == NULL) return false;
  s = *v;
  while (mg_span(s, &item, &s, ',')) {
    struct mg_str name = item, params = mg_str_n(NULL, 0);
    size_t i;
    if (item.len == 0) continue;  // ", ," (mg_span leaves name unset)
    mg_span(item, &name, &params, ';');
    while (name.len > 0 && (*name.buf == ' ' || *name.buf == '\t')) name.buf++, name.len--;
    while (name.len > 0 && (name.buf[name.len - 1] == ' ' || name.buf[name.len - 1] == '\t')) {
      name.len--;
    }
    if (!ieq_n(name.buf, name.len, "gzip") && !ieq_n(name.buf, name.len, "x-gzip")) continue;
    // q=0, q=0.0, q=0.00, q=0.000 refuse it
    for (i = 0; i + 1 < params.len && !(lc(params.buf[i]) == 'q' && params.buf[i + 1] == '='); i++) {
      (void) 0;
    }
    if (i + 1 < params.len) {
      const char *q = params.buf + i + 2, *e = params.buf + params.len;
      bool zero = q < e && *q == '0';
      for (q++; zero && q < e && *q != ' ' && *q != ';'; q++) {
        if (*q != '.' && *q != '0') zero = false;
      }
      if (zero) return false;
    }
    return true;
  }
  return false;
}

// ---- File responses ------------------------------------------------------------------
struct file_stream {
  struct mg_http_hook hook;  // first: c->pfn_data points here
  struct mg_fs *fs;
  void *fd;
  uint64_t left;  // bytes still to send
};

static void stream_free(struct mg_connection *c, struct file_stream *fs) {
  fs->fs->cl(fs->fd);
  if (c->pfn_data == fs) c->pfn_data = NULL;
  free(fs);
}

// Tops c->send up to MG_HTTP_FILE_CHUNK bytes from the file; true when done
static bool stream_fill(struct mg_connection *c, struct file_stream *st) {
  while (st->left > 0 && c->send.len < MG_HTTP_FILE_CHUNK) {
    size_t want = MG_HTTP_FILE_CHUNK - c->send.len, k;
    if (want > st->left) want = (size_t) st->left;
    if (c->send.size - c->send.len < want &&
        !mg_iobuf_resize(&c->send, c->send.len + want)) {
      mg_error(c, "out of memory");
      return false;
    }
    k = st->fs->rd(st->fd, c->send.buf + c->send.len, want);
    if (k == 0 || k > want) {  // the file shrank or failed: cannot be mended
      mg_error(c, "file read failed");
      return false;
    }
    c->send.len += k;
    st->left -= k;
  }
  mg_io_check(c);
  return st->left == 0;
}

static void stream_ev(struct mg_connection *c, int ev, void *ev_data) {
  struct file_stream *st = (struct file_stream *) c->pfn_data;
  if (ev == MG_EV_CLOSE) {
    stream_free(c, st);
  } else if (ev == MG_EV_WRITE || ev == MG_EV_POLL) {
    if (stream_fill(c, st)) {
      stream_free(c, st);
      resp_done(c);
    } else if (c->is_closing) {
      stream_free(c, st);
    }
  }
  (void) ev_data;
}

// The head of a file response into c->send: status line, headers, extra
// headers, Content-Length, Connection: close when due, the empty line.
static void file_head(struct mg_connection *c, int status, const char *hdrs,
                      const char *extra, uint64_t clen, bool body) {
  mg_printf(c, "HTTP/1.1 %d %s\r\n%s%s", status, mg_http_status_text(status), hdrs,
            extra == NULL ? "" : extra);
  if (body) mg_printf(c, "Content-Length: %llu\r\n", (unsigned long long) clen);
  if (c->is_close_after) mg_printf(c, "Connection: close\r\n");
  mg_printf(c, "\r\n");
}

// A reply with header lines `hdrs` (may be NULL) then `extra` (any length),
// and the body `body` (NULL: the status text, as plain text)
static void reply_with(struct mg_connection *c, int status, const char *hdrs,
                       const char *extra, const char *body, size_t blen) {
  char *h = mg_mprintf("%s%s%s", body == NULL ? "Content-Type: text/plain\r\n" : "",
                       hdrs == NULL ? "" : hdrs, extra == NULL ? "" : extra);
  if (h == NULL) {
    mg_error(c, "out of memory");
  } else if (body == NULL) {
    mg_http_reply(c, status, h, "%s\n", mg_http_status_text(status));
  } else {
    mg_http_reply_raw(c, status, h, strlen(h), body, blen);
  }
  free(h);
}

static void reply_status(struct mg_connection *c, int status, const char *extra) {
  reply_with(c, status, NULL, extra, NULL, 0);
}

// What fs->st() said about a file
struct file_st {
  int flags;
  size_t size;
  time_t mtime;
};

// Serves `path` with `status` (200, or 404 for page404: no ranges, no 304);
// `pre`: its stat, when the caller has it already
static void serve_file(struct mg_connection *c, struct mg_http_message *hm,
                       const char *path, const struct mg_http_serve_opts *opts,
                       int status, const struct file_st *pre) {
  struct mg_fs *fs = opts->fs != NULL ? opts->fs : &mg_fs_posix;
  char gz[SERVE_PATH_MAX + 4], etag[64], date[40], hdrs[1024];
  const char *real = path;
  size_t size = 0, gzsize = 0, hl = 0;
  time_t mtime = 0, gzmtime = 0;
  int flags, gzflags = 0;
  bool has_gz = false, use_gz = false;
  uint64_t start = 0, len;
  struct mg_str *h;
  struct mg_str ctype = mime_type(path, opts->mime_types);
  void *fd;

  if (pre != NULL) {
    flags = pre->flags, size = pre->size, mtime = pre->mtime;
  } else {
    flags = fs->st(path, &size, &mtime);
  }
  // The .gz variant is looked for only when the client takes gzip (so only
  // gzip responses carry Vary, which is the direction that matters)
  if (accepts_gzip(hm) && mg_snprintf(gz, sizeof(gz), "%s.gz", path) < sizeof(gz) - 1) {
    gzflags = fs->st(gz, &gzsize, &gzmtime);
    has_gz = (gzflags & (MG_FS_READ | MG_FS_DIR)) == MG_FS_READ;
  }
  if (has_gz) {
    use_gz = true, real = gz, size = gzsize, mtime = gzmtime, flags = gzflags;
  }
  if ((flags & (MG_FS_READ | MG_FS_DIR)) != MG_FS_READ || size == SIZE_MAX ||
      (fd = fs->op(real, MG_FS_READ)) == NULL) {
    if (status != 200) {  // the 404 page itself is missing
      reply_status(c, 404, opts->extra_headers);
    } else if (opts->page404 != NULL && !(fs->st(path, NULL, NULL) & MG_FS_DIR)) {
      serve_file(c, hm, opts->page404, opts, 404, NULL);
    } else {
      reply_status(c, 404, opts->extra_headers);
    }
    return;
  }
  mg_snprintf(etag, sizeof(etag), "\"%llx.%llx%s\"", (unsigned long long) mtime,
              (unsigned long long) size, use_gz ? ".gz" : "");
  http_date((int64_t) mtime, date, sizeof(date));
  len = size;
  hl = mg_snprintf(hdrs, sizeof(hdrs),
                   "Content-Type: %.*s\r\nETag: %s\r\nLast-Modified: %s\r\n%s%s",
                   (int) (ctype.len < 256 ? ctype.len : 256), ctype.buf, etag, date,
                   use_gz ? "Content-Encoding: gzip\r\n" : "",
                   has_gz ? "Vary: Accept-Encoding\r\n" : "");
  if (status == 200) {
    struct mg_str *inm = mg_http_get_header(hm, "If-None-Match");
    struct mg_str *ims = mg_http_get_header(hm, "If-Modified-Since");
    int64_t t;
    if ((inm != NULL && etag_match(*inm, etag)) ||
        (inm == NULL && ims != NULL && (t = parse_http_date(*ims)) >= 0 &&
         (int64_t) mtime <= t)) {
      fs->cl(fd);
      file_head(c, 304, hdrs, opts->extra_headers, 0, false);
      resp_done(c);
      return;
    }
    h = mg_http_get_header(hm, "Range");
    if (h != NULL) {
      struct mg_str *ir = mg_http_get_header(hm, "If-Range");
      int r = ir != NULL && !(ir->len == strlen(etag) && memcmp(ir->buf, etag, ir->len) == 0)
                  ? 0
                  : parse_range(h, size, &start, &len);
      if (r < 0) {
        char cr[64];
        fs->cl(fd);
        mg_snprintf(cr, sizeof(cr), "Content-Range: bytes */%llu\r\n",
                    (unsigned long long) size);
        reply_with(c, 416, cr, opts->extra_headers, NULL, 0);
        return;
      }
      if (r > 0) {
        status = 206;
        if (start > 0 && fs->sk(fd, (size_t) start) != (size_t) start) {
          fs->cl(fd);
          reply_status(c, 500, opts->extra_headers);
          return;
        }
        mg_snprintf(hdrs + hl, sizeof(hdrs) - hl, "Content-Range: bytes %llu-%llu/%llu\r\n",
                    (unsigned long long) start, (unsigned long long) (start + len - 1),
                    (unsigned long long) size);
      }
    }
    if (status == 200 && hl + 24 < sizeof(hdrs)) {
      mg_snprintf(hdrs + hl, sizeof(hdrs) - hl, "Accept-Ranges: bytes\r\n");
    }
  }
  file_head(c, status, hdrs, opts->extra_headers, len, true);
  if (c->is_head || len == 0) {
    fs->cl(fd);
    resp_done(c);
    return;
  } else {
    struct file_stream *st = (struct file_stream *) calloc(1, sizeof(*st));
    if (st == NULL) {
      fs->cl(fd);
      mg_error(c, "out of memory");
      return;
    }
    st->hook.fn = stream_ev;
    st->fs = fs, st->fd = fd, st->left = len;
    if (stream_fill(c, st)) {  // all of it fits in c->send
      fs->cl(fd);
      free(st);
      resp_done(c);
    } else if (c->is_closing) {
      fs->cl(fd);
      free(st);
    } else {
      c->pfn_data = st;  // the rest follows as the peer reads (stream_ev)
    }
  }
}

// Refuses a second response while one is streamed
static bool busy(struct mg_connection *c) {
  if (c->pfn_data == NULL) return false;
  mg_error(c, "a response is still being sent");
  return true;
}

void mg_http_serve_file(struct mg_connection *c, struct mg_http_message *hm,
                        const char *path, const struct mg_http_serve_opts *opts) {
  struct mg_http_serve_opts none;
  if (busy(c)) return;
  if (opts == NULL) memset(&none, 0, sizeof(none)), opts = &none;
  serve_file(c, hm, path, opts, 200, NULL);
}

// ---- Directory listings ----------------------------------------------------------------
struct names {
  char **v;
  size_t n, cap;
  bool oom;
};

static void add_name(const char *name, void *arg) {
  struct names *ns = (struct names *) arg;
  size_t n = strlen(name);
  char *copy;
  if (ns->oom || ns->n >= 100000) return;
  if (ns->n == ns->cap) {
    size_t cap = ns->cap == 0 ? 32 : ns->cap * 2;
    char **v = (char **) realloc(ns->v, cap * sizeof(*v));
    if (v == NULL) {
      ns->oom = true;
      return;
    }
    ns->v = v, ns->cap = cap;
  }
  if ((copy = (char *) malloc(n + 1)) == NULL) {
    ns->oom = true;
    return;
  }
  memcpy(copy, name, n + 1);
  ns->v[ns->n++] = copy;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *) a, *(char *const *) b);
}

// HTML-escaped text
static void html_esc(struct mg_iobuf *io, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    const char *rep = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;"
                    : s[i] == '"' ? "&quot;" : s[i] == '\'' ? "&#39;" : NULL;
    if (rep != NULL) {
      mg_iobuf_add(io, io->len, rep, strlen(rep));
    } else {
      mg_iobuf_add(io, io->len, s + i, 1);
    }
  }
}

static void listing(struct mg_connection *c, struct mg_http_message *hm,
                    const char *dir, const struct mg_http_serve_opts *opts,
                    struct mg_fs *fs) {
  struct names ns = {NULL, 0, 0, false};
  struct mg_iobuf io = {NULL, 0, 0, 4096};
  char path[SERVE_PATH_MAX], enc[MG_PATH_MAX * 3 + 1], date[40];
  size_t i;
  fs->ls(dir, add_name, &ns);
  if (ns.n > 1) qsort(ns.v, ns.n, sizeof(ns.v[0]), cmp_names);
  mg_xprintf(mg_pfn_iobuf, &io,
             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
  html_esc(&io, hm->uri.buf, hm->uri.len);
  mg_xprintf(mg_pfn_iobuf, &io,
             "</title>\n<style>th,td{text-align:left;padding:0 1em}</style></head>\n"
             "<body><h1>Index of ");
  html_esc(&io, hm->uri.buf, hm->uri.len);
  mg_xprintf(mg_pfn_iobuf, &io,
             "</h1>\n<table><tr><th>Name</th><th>Modified</th><th>Size</th></tr>\n");
  if (hm->uri.len > 1) {
    mg_xprintf(mg_pfn_iobuf, &io, "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
  }
  for (i = 0; i < ns.n && !ns.oom; i++) {
    size_t size = 0, nl = strlen(ns.v[i]);
    time_t mtime = 0;
    int fl;
    if (mg_snprintf(path, sizeof(path), "%s/%s", dir, ns.v[i]) >= sizeof(path) - 1) continue;
    fl = fs->st(path, &size, &mtime);
    if (fl == 0 || mg_url_encode(ns.v[i], nl, enc, sizeof(enc)) == 0) continue;
    http_date((int64_t) mtime, date, sizeof(date));
    mg_xprintf(mg_pfn_iobuf, &io, "<tr><td><a href=\"%s%s\">", enc, fl & MG_FS_DIR ? "/" : "");
    html_esc(&io, ns.v[i], nl);
    if (fl & MG_FS_DIR) {
      mg_xprintf(mg_pfn_iobuf, &io, "/</a></td><td>%s</td><td>[DIR]</td></tr>\n", date);
    } else {
      mg_xprintf(mg_pfn_iobuf, &io, "</a></td><td>%s</td><td>%llu</td></tr>\n", date,
                 (unsigned long long) size);
    }
  }
  mg_xprintf(mg_pfn_iobuf, &io, "</table></body></html>\n");
  for (i = 0; i < ns.n; i++) free(ns.v[i]);
  free(ns.v);
  if (ns.oom || io.buf == NULL) {
    reply_status(c, 500, opts->extra_headers);
  } else {
    reply_with(c, 200, "Content-Type: text/html; charset=utf-8\r\n", opts->extra_headers,
               (const char *) io.buf, io.len);
  }
  mg_iobuf_free(&io);
}

void mg_http_serve_dir(struct mg_connection *c, struct mg_http_message *hm,
                       const struct mg_http_serve_opts *opts) {
  struct mg_http_serve_opts none;
  struct mg_fs *fs;
  char path[SERVE_PATH_MAX];
  struct file_st st;
  int flags;
  if (busy(c)) return;
  if (opts == NULL) memset(&none, 0, sizeof(none)), opts = &none;
  fs = opts->fs != NULL ? opts->fs : &mg_fs_posix;
  if (!is_method(hm, "GET") && !is_method(hm, "HEAD")) {
    reply_with(c, 405, "Allow: GET, HEAD\r\n", opts->extra_headers, NULL, 0);
    return;
  }
  if (!mg_http_path(opts->root_dir, hm->uri, path, sizeof(path) - 12)) {
    reply_status(c, 400, opts->extra_headers);
    return;
  }
  st.size = 0, st.mtime = 0;
  flags = st.flags = fs->st(path, &st.size, &st.mtime);
  if (flags & MG_FS_DIR) {
    size_t pl = strlen(path);
    if (hm->uri.buf[hm->uri.len - 1] != '/') {  // links in it are relative to "dir/"
      // One leading slash: "//host/dir" must not become a link to another host
      struct mg_str u = hm->uri;
      char *loc;
      while (u.len > 1 && u.buf[1] == '/') u.buf++, u.len--;
      loc = mg_mprintf("Location: %.*s/%s%.*s\r\n", (int) u.len, u.buf,
                       hm->query.len > 0 ? "?" : "", (int) hm->query.len, hm->query.buf);
      if (loc == NULL) return mg_error(c, "out of memory");
      reply_with(c, 301, loc, opts->extra_headers, "", 0);
      free(loc);
      return;
    }
    memcpy(path + pl, "/index.html", 12);
    st.flags = fs->st(path, &st.size, &st.mtime);
    if ((st.flags & (MG_FS_READ | MG_FS_DIR)) == MG_FS_READ) {
      serve_file(c, hm, path, opts, 200, &st);
    } else {
      path[pl] = '\0';
      if (flags & MG_FS_READ) {
        listing(c, hm, path, opts, fs);
      } else {
        reply_status(c, 403, opts->extra_headers);
      }
    }
    return;
  }
  serve_file(c, hm, path, opts, 200, &st);
}

// ---- Streamed uploads ------------------------------------------------------------------
struct upload {
  struct mg_http_hook hook;  // first: c->pfn_data points here
  struct mg_fs *fs;
  void *fd;
  uint64_t left, size;
  char name[MG_PATH_MAX];
  char final[SERVE_PATH_MAX];
  char tmp[SERVE_PATH_MAX + 32];
};

// A reply of {"name":name,"size":size}
static void reply_name_size(struct mg_connection *c, int status, const char *name,
                            uint64_t size) {
  mg_http_reply(c, status, "Content-Type: application/json\r\n", "{%m:%m,%m:%llu}\n",
                MG_ESC("name"), MG_ESC(name), MG_ESC("size"), (unsigned long long) size);
}

static void upload_end(struct mg_connection *c, struct upload *u, bool ok) {
  u->fs->cl(u->fd);
  if (ok && !u->fs->mv(u->tmp, u->final)) ok = false;
  if (!ok) u->fs->rm(u->tmp);
  if (c->pfn_data == u) c->pfn_data = NULL;
  if (!c->is_closing) {
    if (ok) {
      reply_name_size(c, 201, u->name, u->size);
    } else {
      c->is_close_after = 1;  // the rest of the body is not read
      reply_status(c, 500, NULL);
    }
  }
  free(u);
}

static void upload_ev(struct mg_connection *c, int ev, void *ev_data) {
  struct upload *u = (struct upload *) c->pfn_data;
  if (ev == MG_EV_CLOSE) {
    u->fs->cl(u->fd);
    u->fs->rm(u->tmp);
    c->pfn_data = NULL;
    free(u);
  } else if (ev == MG_EV_READ) {
    size_t n = c->recv.len < u->left ? c->recv.len : (size_t) u->left, done = 0, k = 1;
    while (done < n && (k = u->fs->wr(u->fd, c->recv.buf + done, n - done)) > 0) done += k;
    mg_iobuf_del(&c->recv, 0, done);
    u->left -= done;
    if (done < n) {
      upload_end(c, u, false);
    } else if (u->left == 0) {
      upload_end(c, u, true);
    }
  }
  (void) ev_data;
}

// A file name without path components: not empty, no '/', '\\', control
// characters, not starting with '.'
static bool safe_name(const char *s) {
  size_t i;
  if (s[0] == '\0' || s[0] == '.') return false;
  for (i = 0; s[i] != '\0'; i++) {
    unsigned char ch = (unsigned char) s[i];
    if (ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f || ch == ':') return false;
  }
  return true;
}

void mg_http_upload_stream(struct mg_connection *c, struct mg_http_message *hm,
                           struct mg_fs *fs, const char *dir,
                           uint64_t max_size) {
  struct upload *u;
  struct mg_str *cl = mg_http_get_header(hm, "Content-Length"), *ex;
  uint64_t size = 0;
  size_t k;
  int r;
  if (busy(c)) return;
  if (fs == NULL) fs = &mg_fs_posix;
  if (mg_http_get_header(hm, "Transfer-Encoding") != NULL) {
    reply_status(c, 411, NULL);
    return;
  }
  if (cl != NULL && !parse_u64(cl->buf, cl->len, &size)) {
    reply_status(c, 400, NULL);
    return;
  }
  if (size > max_size) {
    reply_status(c, 413, NULL);
    return;
  }
  if ((u = (struct upload *) calloc(1, sizeof(*u))) == NULL) {
    mg_error(c, "out of memory");
    return;
  }
  r = mg_http_get_var(&hm->query, "name", u->name, sizeof(u->name));
  if (r == -1) {  // no ?name=: the last segment of the URI path
    for (k = hm->uri.len; k > 0 && hm->uri.buf[k - 1] != '/'; k--) (void) 0;
    r = mg_url_decode(hm->uri.buf + k, hm->uri.len - k, u->name, sizeof(u->name), 0);
  }
  if (r <= 0 || (size_t) r != strlen(u->name) || !safe_name(u->name) || dir == NULL ||
      mg_snprintf(u->final, sizeof(u->final), "%s/%s", dir, u->name) >= sizeof(u->final) - 1 ||
      mg_snprintf(u->tmp, sizeof(u->tmp), "%s/.%s.%lu.part", dir, u->name, c->id) >=
          sizeof(u->tmp) - 1) {
    free(u);
    reply_status(c, 400, NULL);
    return;
  }
  if ((u->fd = fs->op(u->tmp, MG_FS_WRITE)) == NULL) {
    free(u);
    reply_status(c, 500, NULL);
    return;
  }
  u->hook.fn = upload_ev;
  u->hook.is_body = true;
  u->fs = fs, u->left = u->size = size;
  if (!c->is_http_body) {  // from MG_EV_HTTP_MSG: the body is all there
    size_t n = hm->body.len < size ? hm->body.len : (size_t) size, done = 0;
    k = 1;
    while (done < n && (k = fs->wr(u->fd, hm->body.buf + done, n - done)) > 0) done += k;
    upload_end(c, u, done == size);
    return;
  }
  ex = mg_http_get_header(hm, "Expect");
  if (ex != NULL && size > 0 && ieq_n(ex->buf, ex->len, "100-continue") &&
      c->recv.len <= hm->head.len) {
    c->is_sent_100 = 1;
    mg_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  }
  c->pfn_data = u;  // http.c hands the body over (upload_ev)
}

long mg_http_upload(struct mg_connection *c, struct mg_http_message *hm,
                    struct mg_fs *fs, const char *dir, size_t max_size) {
  char name[MG_PATH_MAX], path[SERVE_PATH_MAX], num[24];
  uint64_t offset;
  size_t have = 0, done = 0, k = 1, n = hm->body.len;
  int r;
  void *fd;
  if (busy(c)) return -1;
  if (c->is_http_body) {  // MG_EV_HTTP_HDRS: the body has not arrived
    mg_error(c, "mg_http_upload needs the whole request (MG_EV_HTTP_MSG)");
    return -1;
  }
  if (fs == NULL) fs = &mg_fs_posix;
  r = mg_http_get_var(&hm->query, "file", name, sizeof(name));
  if (r <= 0 || (size_t) r != strlen(name) || !safe_name(name) || dir == NULL ||
      mg_snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) - 1) {
    mg_http_reply(c, 400, "", "missing or bad ?file= name\n");
    return -1;
  }
  r = mg_http_get_var(&hm->query, "offset", num, sizeof(num));
  if (r <= 0 || !parse_u64(num, (size_t) r, &offset)) {
    mg_http_reply(c, 400, "", "missing or bad ?offset= number\n");
    return -1;
  }
  if (offset > max_size || n > max_size - offset) {
    reply_status(c, 413, NULL);
    return -1;
  }
  if (offset > 0) {  // appends, where the file ends now: else 409 with its size
    int flags = fs->st(path, &have, NULL);
    if ((flags & MG_FS_DIR) || !(flags & MG_FS_READ)) have = 0;
    if (have != offset) {
      reply_name_size(c, 409, name, have);
      return -1;
    }
  }
  if ((fd = fs->op(path, offset == 0 ? MG_FS_WRITE : MG_FS_WRITE | MG_FS_APPEND)) == NULL) {
    reply_status(c, 500, NULL);
    return -1;
  }
  while (done < n && (k = fs->wr(fd, hm->body.buf + done, n - done)) > 0) done += k;
  fs->cl(fd);
  if (done < n) {
    reply_status(c, 500, NULL);
    return -1;
  }
  reply_name_size(c, 200, name, offset + n);
  return (long) n;
}
