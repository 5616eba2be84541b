// wasmgoose — growable byte buffers.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

// Rounds n up to a multiple of align; 0 on overflow
static size_t round_up(size_t n, size_t align) {
  if (align <= 1) return n;
  if (n > SIZE_MAX - (align - 1)) return 0;
  return (n + align - 1) / align * align;
}

int mg_iobuf_init(struct mg_iobuf *io, size_t size, size_t align) {
  io->buf = NULL;
  io->size = io->len = 0;
  io->align = align;
  return mg_iobuf_resize(io, size);
}

// Resizes to size rounded up to io->align; size 0 frees the buffer. Data
// that does not fit in a smaller buffer is dropped. Returns 1 ok, 0 failure.
int mg_iobuf_resize(struct mg_iobuf *io, size_t size) {
  unsigned char *p;
  if (size == 0) {
    free(io->buf);
    io->buf = NULL;
    io->size = io->len = 0;
    return 1;
  }
  size = round_up(size, io->align);
  if (size == 0) return 0;
  if (size == io->size) return 1;
  p = (unsigned char *) realloc(io->buf, size);
  if (p == NULL) return 0;
  io->buf = p;
  io->size = size;
  if (io->len > size) io->len = size;
  return 1;
}

void mg_iobuf_free(struct mg_iobuf *io) {
  mg_iobuf_resize(io, 0);
}

// Inserts len bytes at ofs (clamped to io->len); buf NULL inserts zeros.
// Grows geometrically so that many small appends stay linear overall (and
// falls back to the exact size if the doubled one cannot be allocated).
// Returns the new length, or 0 if memory could not be allocated.
size_t mg_iobuf_add(struct mg_iobuf *io, size_t ofs, const void *buf,
                    size_t len) {
  size_t need = io->len + len;
  if (need < len) return 0;  // overflow
  if (ofs > io->len) ofs = io->len;
  if (need > io->size) {
    size_t grow = io->size > SIZE_MAX / 2 ? SIZE_MAX : io->size * 2;
    if (!mg_iobuf_resize(io, need > grow ? need : grow) &&
        !mg_iobuf_resize(io, need)) {
      return 0;
    }
  }
  if (len == 0) return io->len;
  if (ofs < io->len) memmove(io->buf + ofs + len, io->buf + ofs, io->len - ofs);
  if (buf != NULL) {
    memcpy(io->buf + ofs, buf, len);
  } else {
    memset(io->buf + ofs, 0, len);
  }
  io->len = need;
  return io->len;
}

// Removes up to len bytes at ofs; returns the new length
size_t mg_iobuf_del(struct mg_iobuf *io, size_t ofs, size_t len) {
  if (ofs > io->len) ofs = io->len;
  if (len > io->len - ofs) len = io->len - ofs;
  if (len > 0) {
    memmove(io->buf + ofs, io->buf + ofs + len, io->len - ofs - len);
    io->len -= len;
  }
  return io->len;
}
