// wasmgoose — helpers over a struct mg_fs (any filesystem implementation).
// Written from the API in MONGOOSE_API.md.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

struct mg_fd *mg_fs_open(struct mg_fs *fs, const char *path, int flags) {
  struct mg_fd *fd;
  void *h;
  if (fs == NULL) fs = &mg_fs_posix;
  if ((h = fs->op(path, flags)) == NULL) return NULL;
  if ((fd = (struct mg_fd *) calloc(1, sizeof(*fd))) == NULL) {
    fs->cl(h);
    return NULL;
  }
  fd->fd = h;
  fd->fs = fs;
  return fd;
}

void mg_fs_close(struct mg_fd *fd) {
  if (fd == NULL) return;
  fd->fs->cl(fd->fd);
  free(fd);
}

// mg_fs_ls: the entry that follows `prev` in listing order
struct ls_next {
  char *buf;
  size_t len;
  bool take;   // the previous name was seen (or there was none)
  bool found;  // buf holds the next name
};

static void ls_next_cb(const char *name, void *arg) {
  struct ls_next *st = (struct ls_next *) arg;
  if (st->found) return;
  if (st->take) {
    size_t n = strlen(name);
    if (n >= st->len) return;  // does not fit: skipped
    memcpy(st->buf, name, n + 1);
    st->found = true;
  } else if (strcmp(name, st->buf) == 0) {
    st->take = true;
  }
}

bool mg_fs_ls(struct mg_fs *fs, const char *path, char *buf, size_t len) {
  struct ls_next st;
  if (buf == NULL || len == 0) return false;
  if (fs == NULL) fs = &mg_fs_posix;
  st.buf = buf, st.len = len, st.take = buf[0] == '\0', st.found = false;
  fs->ls(path, ls_next_cb, &st);
  if (!st.found) buf[0] = '\0';
  return st.found;
}

char *mg_file_read(struct mg_fs *fs, const char *path, size_t *size) {
  struct mg_fd *fd;
  char *data = NULL;
  size_t sz = 0, n = 0, k;
  if (fs == NULL) fs = &mg_fs_posix;
  if ((fs->st(path, &sz, NULL) & (MG_FS_READ | MG_FS_DIR)) != MG_FS_READ ||
      sz == SIZE_MAX || (fd = mg_fs_open(fs, path, MG_FS_READ)) == NULL) {
    return NULL;
  }
  if ((data = (char *) malloc(sz + 1)) != NULL) {
    while (n < sz && (k = fs->rd(fd->fd, data + n, sz - n)) > 0) n += k;
    data[n] = '\0';  // a file that shrank meanwhile: what was there
    if (size != NULL) *size = n;
  }
  mg_fs_close(fd);
  return data;
}

bool mg_file_write(struct mg_fs *fs, const char *path, const void *buf,
                   size_t len) {
  // Written to a temporary name and renamed: readers never see half a file
  char tmp[MG_PATH_MAX];
  struct mg_fd *fd;
  size_t n = 0, k = 1;
  if (fs == NULL) fs = &mg_fs_posix;
  if (mg_snprintf(tmp, sizeof(tmp), "%s..%d", path, rand() & 0xffff) >=
      sizeof(tmp) - 1) {
    return false;
  }
  if ((fd = mg_fs_open(fs, tmp, MG_FS_WRITE)) == NULL) return false;
  while (n < len && (k = fs->wr(fd->fd, (const char *) buf + n, len - n)) > 0) {
    n += k;
  }
  mg_fs_close(fd);
  if (n != len || !fs->mv(tmp, path)) {
    fs->rm(tmp);
    return false;
  }
  return true;
}

bool mg_file_printf(struct mg_fs *fs, const char *path, const char *fmt, ...) {
  va_list ap;
  char *data;
  bool ok;
  va_start(ap, fmt);
  data = mg_vmprintf(fmt, &ap);
  va_end(ap);
  if (data == NULL) return false;
  ok = mg_file_write(fs, path, data, strlen(data));
  free(data);
  return ok;
}
