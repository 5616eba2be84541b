// wasmgoose — utilities: base64url, random bytes and strings, path sanity,
// IP access lists, allocation wrappers.
// SPDX-License-Identifier: MIT
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE  // getentropy, also under a strict -std=c99
#endif
#include <unistd.h>  // getentropy (glibc, wasi-libc)

#include "mongoose.h"

// ---- base64url (RFC 4648 section 5) -------------------------------------------
size_t mg_base64url_encode(const unsigned char *p, size_t n, char *buf,
                           size_t len) {
  size_t out = n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1), i, full;
  char tmp[5];
  if (n > SIZE_MAX / 4 * 3 - 2 || out > len) return 0;
  full = n / 3 * 3;
  if (full > 0 && mg_base64_encode(p, full, buf, len) != full / 3 * 4) return 0;
  if (full < n) {  // the last 1 or 2 bytes, without padding
    mg_base64_encode(p + full, n - full, tmp, sizeof(tmp));
    memcpy(buf + full / 3 * 4, tmp, out - full / 3 * 4);
  }
  for (i = 0; i < out; i++) {
    if (buf[i] == '+') buf[i] = '-';
    if (buf[i] == '/') buf[i] = '_';
  }
  if (out < len) buf[out] = '\0';
  return out;
}

size_t mg_base64url_decode(const char *src, size_t n, char *dst, size_t len) {
  char chunk[256];
  size_t i = 0, out = 0;
  // Translate to the standard alphabet in chunks of whole quanta (the last
  // chunk keeps its tail and padding) and decode each
  while (i < n) {
    size_t k, m = n - i > sizeof(chunk) ? sizeof(chunk) : n - i, r;
    for (k = 0; k < m; k++) {
      char c = src[i + k];
      if (c == '+' || c == '/') return 0;  // not in this alphabet
      chunk[k] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    r = mg_base64_decode(chunk, m, dst + out, len - out);
    if (r == 0) return 0;
    out += r, i += m;
  }
  if (out < len) dst[out] = '\0';
  return out;
}

// ---- random -------------------------------------------------------------------
bool mg_random(void *buf, size_t len) {
  unsigned char *p = (unsigned char *) buf;
  while (len > 0) {
    size_t n = len > 256 ? 256 : len;  // getentropy's limit
    if (getentropy(p, n) != 0) return false;
    p += n, len -= n;
  }
  return true;
}

char *mg_random_str(char *buf, size_t len) {
  static const char alpha[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  unsigned char r[64];
  size_t i = 0, k = sizeof(r);
  if (buf == NULL || len == 0) return buf;
  while (i + 1 < len) {
    if (k == sizeof(r)) {
      if (!mg_random(r, sizeof(r))) memset(r, 0, sizeof(r));
      k = 0;
    }
    if (r[k] < 248) buf[i++] = alpha[r[k] % 62];  // 248 = 4 * 62: no bias
    k++;
  }
  buf[i] = '\0';
  return buf;
}

// ---- paths --------------------------------------------------------------------
// False if any segment (between '/' or '\\') is "..", or there is a NUL
bool mg_path_is_sane(const struct mg_str path) {
  size_t i, start = 0;
  for (i = 0; i <= path.len; i++) {
    char c = i < path.len ? path.buf[i] : '/';
    if (c == '\0') return false;
    if (c == '/' || c == '\\') {
      if (i - start == 2 && path.buf[start] == '.' && path.buf[start + 1] == '.') {
        return false;
      }
      start = i + 1;
    }
  }
  return true;
}

// ---- IP access lists ----------------------------------------------------------
static void trim(struct mg_str *s) {
  while (s->len > 0 && (s->buf[0] == ' ' || s->buf[0] == '\t')) s->buf++, s->len--;
  while (s->len > 0 && (s->buf[s->len - 1] == ' ' || s->buf[s->len - 1] == '\t')) {
    s->len--;
  }
}

// Do the first `bits` bits of a and b agree?
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits) {
  unsigned i;
  for (i = 0; i < bits / 8; i++) {
    if (a[i] != b[i]) return false;
  }
  if (bits % 8 != 0) {
    uint8_t mask = (uint8_t) (0xff << (8 - bits % 8));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

int mg_check_ip_acl(struct mg_str acl, struct mg_addr *remote_ip) {
  struct mg_str entry, rest = acl;
  struct mg_addr rem = *remote_ip;
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  int allowed;
  trim(&rest);
  allowed = rest.len == 0 || rest.buf == NULL ? 1 : 0;  // a list denies others
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is checked as IPv4
  if (rem.is_ip6 && memcmp(rem.addr.ip, mapped, 12) == 0) {
    memmove(rem.addr.ip, rem.addr.ip + 12, 4);
    memset(rem.addr.ip + 4, 0, 12);
    rem.is_ip6 = false;
  }
  while (mg_span(rest, &entry, &rest, ',')) {
    struct mg_str ip, bits;
    struct mg_addr net;
    uint8_t nbits;
    unsigned max;
    char flag;
    trim(&entry);
    if (entry.len < 2 || (entry.buf[0] != '+' && entry.buf[0] != '-')) return -1;
    flag = entry.buf[0];
    entry.buf++, entry.len--;
    mg_span(entry, &ip, &bits, '/');
    memset(&net, 0, sizeof(net));
    if (ip.len == 0 || !mg_aton(ip, &net) ||
        mg_strcmp(ip, mg_str("localhost")) == 0) {
      return -1;
    }
    max = net.is_ip6 ? 128 : 32;
    if (bits.buf != NULL && bits.buf > ip.buf + ip.len) {  // there was a '/'
      if (bits.len == 0 || bits.buf[0] < '0' || bits.buf[0] > '9' ||
          !mg_str_to_num(bits, 10, &nbits, sizeof(nbits)) || nbits > max) {
        return -1;
      }
    } else {
      nbits = (uint8_t) max;
    }
    if (net.is_ip6 == rem.is_ip6 && prefix_eq(net.addr.ip, rem.addr.ip, nbits)) {
      allowed = flag == '+' ? 1 : 0;
    }
  }
  return allowed;
}

// ---- allocation ---------------------------------------------------------------
void *mg_calloc(size_t count, size_t size) {
  return calloc(count, size);
}

void mg_free(void *ptr) {
  free(ptr);
}
