// wasmgoose — base64 (RFC 4648, section 4: standard alphabet, '=' padding).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

static const char s_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of a base64 character, or -1
static int b64_val(int ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

size_t mg_base64_encode(const unsigned char *p, size_t n, char *buf, size_t len) {
  size_t i, j = 0, out = (n + 2) / 3 * 4;
  if (n > SIZE_MAX / 4 * 3 - 2 || out > len) return 0;
  for (i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t) p[i] << 16;
    if (i + 1 < n) v |= (uint32_t) p[i + 1] << 8;
    if (i + 2 < n) v |= p[i + 2];
    buf[j++] = s_alpha[v >> 18];
    buf[j++] = s_alpha[v >> 12 & 63];
    buf[j++] = i + 1 < n ? s_alpha[v >> 6 & 63] : '=';
    buf[j++] = i + 2 < n ? s_alpha[v & 63] : '=';
  }
  if (out < len) buf[out] = '\0';
  return out;
}

// Padding is optional, but if present it must complete the last quantum
size_t mg_base64_decode(const char *src, size_t n, char *dst, size_t len) {
  size_t i, j = 0, pad = 0, out;
  uint32_t v = 0;
  if (n > 0 && src[n - 1] == '=') pad++;
  if (n > 1 && src[n - 2] == '=') pad++;
  if ((pad > 0 && n % 4 != 0) || (n - pad) % 4 == 1) return 0;
  n -= pad;
  out = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
  if (out > len) return 0;
  for (i = 0; i < n; i++) {
    int x = b64_val((unsigned char) src[i]);
    if (x < 0) return 0;
    v = v << 6 | (uint32_t) x;
    if (i % 4 == 3) {
      dst[j++] = (char) (v >> 16), dst[j++] = (char) (v >> 8), dst[j++] = (char) v;
      v = 0;
    }
  }
  if (n % 4 == 2) dst[j++] = (char) (v >> 4);
  if (n % 4 == 3) dst[j++] = (char) (v >> 10), dst[j++] = (char) (v >> 2);
  if (out < len) dst[out] = '\0';
  return out;
}
