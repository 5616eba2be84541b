// mg_fs_posix for WebAssembly: the host runtime's synchronous file calls
// (imports of module "mgw_host", see wasm/ABI.md), and the exports that
// serve static files and take uploads.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define IMPORT(name) \
  __attribute__((import_module("mgw_host"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("fs_stat") int host_fs_stat(const char *path, int plen, double *out);
IMPORT("fs_list") int host_fs_list(const char *path, int plen, char *buf, int len);
IMPORT("fs_open") int host_fs_open(const char *path, int plen, int flags);
IMPORT("fs_close") void host_fs_close(int h);
IMPORT("fs_read") int host_fs_read(int h, void *buf, int len);
IMPORT("fs_write") int host_fs_write(int h, const void *buf, int len);
IMPORT("fs_seek") double host_fs_seek(int h, double offset);
IMPORT("fs_rename")
int host_fs_rename(const char *from, int flen, const char *to, int tlen);
IMPORT("fs_remove") int host_fs_remove(const char *path, int plen);
IMPORT("fs_mkdir") int host_fs_mkdir(const char *path, int plen);

#define FS_IO_MAX 0x40000000  // one host call moves at most 1 GiB

static int w_st(const char *path, size_t *size, time_t *mtime) {
  double out[2] = {0, 0};
  int flags = host_fs_stat(path, (int) strlen(path), out);
  if (flags <= 0) return 0;
  if (size != NULL) *size = out[0] >= (double) SIZE_MAX ? SIZE_MAX : (size_t) out[0];
  if (mtime != NULL) *mtime = (time_t) out[1];
  return flags;
}

static void w_ls(const char *path, void (*fn)(const char *, void *), void *arg) {
  int len = 4096, need, i;
  char *buf = NULL;
  for (;;) {  // the host says how much room the names need
    char *p = (char *) realloc(buf, (size_t) len);
    if (p == NULL) break;
    buf = p;
    need = host_fs_list(path, (int) strlen(path), buf, len);
    if (need < 0) break;
    if (need <= len) {
      for (i = 0; i < need; i += (int) strlen(buf + i) + 1) fn(buf + i, arg);
      break;
    }
    len = need;
  }
  free(buf);
}

static void *w_op(const char *path, int flags) {
  int h = host_fs_open(path, (int) strlen(path), flags);
  return h <= 0 ? NULL : (void *) (intptr_t) h;
}

static void w_cl(void *fd) {
  if (fd != NULL) host_fs_close((int) (intptr_t) fd);
}

static size_t w_rd(void *fd, void *buf, size_t len) {
  int n = host_fs_read((int) (intptr_t) fd, buf, (int) (len < FS_IO_MAX ? len : FS_IO_MAX));
  return n < 0 ? 0 : (size_t) n;
}

static size_t w_wr(void *fd, const void *buf, size_t len) {
  int n = host_fs_write((int) (intptr_t) fd, buf, (int) (len < FS_IO_MAX ? len : FS_IO_MAX));
  return n < 0 ? 0 : (size_t) n;
}

static size_t w_sk(void *fd, size_t offset) {
  double r = host_fs_seek((int) (intptr_t) fd, (double) offset);
  return r < 0 ? (size_t) -1 : (size_t) r;
}

static bool w_mv(const char *from, const char *to) {
  return host_fs_rename(from, (int) strlen(from), to, (int) strlen(to)) > 0;
}

static bool w_rm(const char *path) {
  return host_fs_remove(path, (int) strlen(path)) > 0;
}

static bool w_mkd(const char *path) {
  return host_fs_mkdir(path, (int) strlen(path)) > 0;
}

struct mg_fs mg_fs_posix = {w_st, w_ls, w_op, w_cl, w_rd, w_wr, w_sk, w_mv, w_rm, w_mkd};

// ---- Exports --------------------------------------------------------------------
// The flush that follows them happens at the end of the outermost export
// call: these run inside an event (MG_EV_HTTP_MSG / MG_EV_HTTP_HDRS).

// The i-th NUL-terminated string of blk, NULL when empty
static const char *nth(const char *blk, size_t blen, int i) {
  const char *p = blk, *end = blk + blen;
  for (; i > 0 && p < end; i--) p += strlen(p) + 1;
  return p < end && *p != '\0' ? p : NULL;
}

// Copies blk (the strings may be overwritten by a handler the call runs)
static char *copy_blk(const char *blk, int blen) {
  char *p = (char *) malloc((size_t) blen + 1);
  if (p == NULL) return NULL;
  memcpy(p, blk, (size_t) blen);
  p[blen] = '\0';
  return p;
}

EXPORT("mgw_serve")
void mgw_serve(struct mg_connection *c, struct mg_http_message *hm, int file,
               const char *blk, int blen) {
  struct mg_http_serve_opts opts;
  char *b = copy_blk(blk, blen);
  if (b == NULL) return mg_error(c, "out of memory");
  memset(&opts, 0, sizeof(opts));
  opts.root_dir = nth(b, (size_t) blen, 0);
  opts.extra_headers = nth(b, (size_t) blen, 1);
  opts.mime_types = nth(b, (size_t) blen, 2);
  opts.page404 = nth(b, (size_t) blen, 3);
  if (file) {
    mg_http_serve_file(c, hm, opts.root_dir == NULL ? "" : opts.root_dir, &opts);
  } else {
    if (opts.root_dir == NULL) opts.root_dir = ".";
    mg_http_serve_dir(c, hm, &opts);
  }
  free(b);
}

EXPORT("mgw_upload")
void mgw_upload(struct mg_connection *c, struct mg_http_message *hm,
                const char *dir, int dlen, double max_size) {
  char *b = copy_blk(dir, dlen);
  if (b == NULL) return mg_error(c, "out of memory");
  mg_http_upload_stream(c, hm, &mg_fs_posix, b,
                        max_size < 0 ? 0 : max_size > 1.8e19 ? UINT64_MAX : (uint64_t) max_size);
  free(b);
}

EXPORT("mgw_upload_chunk")
int mgw_upload_chunk(struct mg_connection *c, struct mg_http_message *hm,
                     const char *dir, int dlen, double max_size) {
  size_t max = max_size < 0 ? 0 : max_size >= (double) SIZE_MAX ? SIZE_MAX : (size_t) max_size;
  char *b = copy_blk(dir, dlen);
  long n;
  if (b == NULL) {
    mg_error(c, "out of memory");
    return -1;
  }
  n = mg_http_upload(c, hm, &mg_fs_posix, b, max);
  free(b);
  return (int) n;
}
