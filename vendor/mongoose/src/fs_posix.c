// wasmgoose — mg_fs_posix for native builds: POSIX file calls.
// (The WebAssembly build has its own mg_fs_posix in wasm/fs.c.)
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define FD(h) ((int) ((intptr_t) (h) - 1))

static int p_st(const char *path, size_t *size, time_t *mtime) {
  struct stat st;
  int flags;
  if (stat(path, &st) != 0) return 0;
  if (size != NULL) *size = (size_t) st.st_size;
  if (mtime != NULL) *mtime = st.st_mtime;
  flags = S_ISDIR(st.st_mode) ? MG_FS_DIR : 0;
  if (access(path, R_OK) == 0) flags |= MG_FS_READ;
  if (access(path, W_OK) == 0) flags |= MG_FS_WRITE;
  return flags;
}

static void p_ls(const char *path, void (*fn)(const char *, void *), void *arg) {
  DIR *d = opendir(path);
  struct dirent *e;
  if (d == NULL) return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    fn(e->d_name, arg);
  }
  closedir(d);
}

static void *p_op(const char *path, int flags) {
  int mode = !(flags & MG_FS_WRITE)  ? O_RDONLY
             : (flags & MG_FS_APPEND) ? O_WRONLY | O_CREAT | O_APPEND
                                      : O_WRONLY | O_CREAT | O_TRUNC;
  int fd = open(path, mode | O_CLOEXEC, 0644);
  if (fd >= 0 && !(flags & MG_FS_WRITE)) {
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {  // files only
      close(fd);
      fd = -1;
    }
  }
  return fd < 0 ? NULL : (void *) (intptr_t) (fd + 1);
}

static void p_cl(void *h) {
  if (h != NULL) close(FD(h));
}

static size_t p_rd(void *h, void *buf, size_t len) {
  ssize_t n;
  do {
    n = read(FD(h), buf, len);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? 0 : (size_t) n;
}

static size_t p_wr(void *h, const void *buf, size_t len) {
  ssize_t n;
  do {
    n = write(FD(h), buf, len);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? 0 : (size_t) n;
}

static size_t p_sk(void *h, size_t offset) {
  off_t r = lseek(FD(h), (off_t) offset, SEEK_SET);
  return r < 0 ? (size_t) -1 : (size_t) r;
}

static bool p_mv(const char *from, const char *to) {
  return rename(from, to) == 0;
}

static bool p_rm(const char *path) {
  return unlink(path) == 0;
}

static bool p_mkd(const char *path) {
  return mkdir(path, 0755) == 0;
}

struct mg_fs mg_fs_posix = {p_st, p_ls, p_op, p_cl, p_rd,
                            p_wr, p_sk, p_mv, p_rm, p_mkd};
