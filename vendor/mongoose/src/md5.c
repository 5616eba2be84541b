// wasmgoose — MD5 (RFC 1321) and CRC-32 (IEEE 802.3).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

// Per-round shift amounts and the constants floor(abs(sin(i + 1)) * 2^32)
static const uint8_t S[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7,
                              12, 17, 22, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,
                              14, 20, 5, 9,  14, 20, 4, 11, 16, 23, 4, 11, 16,
                              23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21,
                              6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
static const uint32_t T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

static void md5_block(uint32_t h[4], const unsigned char *p) {
  uint32_t x[16], a = h[0], b = h[1], c = h[2], d = h[3];
  int i;
  for (i = 0; i < 16; i++) {
    x[i] = (uint32_t) p[4 * i] | (uint32_t) p[4 * i + 1] << 8 |
           (uint32_t) p[4 * i + 2] << 16 | (uint32_t) p[4 * i + 3] << 24;
  }
  for (i = 0; i < 64; i++) {
    uint32_t f, t;
    int g;
    if (i < 16) {
      f = (b & c) | (~b & d), g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d, g = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d), g = (7 * i) % 16;
    }
    t = a + f + T[i] + x[g];
    a = d, d = c, c = b;
    b = b + (t << S[i] | t >> (32 - S[i]));
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d;
}

void mg_md5_init(mg_md5_ctx *c) {
  c->buf[0] = 0x67452301, c->buf[1] = 0xefcdab89;
  c->buf[2] = 0x98badcfe, c->buf[3] = 0x10325476;
  c->bits[0] = c->bits[1] = 0;
}

void mg_md5_update(mg_md5_ctx *c, const unsigned char *data, size_t len) {
  size_t have = (c->bits[0] >> 3) & 63;
  uint64_t bits = ((uint64_t) c->bits[1] << 32 | c->bits[0]) + (uint64_t) len * 8;
  c->bits[0] = (uint32_t) bits, c->bits[1] = (uint32_t) (bits >> 32);
  while (len > 0) {
    size_t n = 64 - have;
    if (n > len) n = len;
    memcpy(c->in + have, data, n);
    have += n, data += n, len -= n;
    if (have == 64) {
      md5_block(c->buf, c->in);
      have = 0;
    }
  }
}

void mg_md5_final(mg_md5_ctx *c, unsigned char digest[16]) {
  uint32_t lo = c->bits[0], hi = c->bits[1];
  size_t have = (lo >> 3) & 63;
  int i;
  c->in[have++] = 0x80;
  if (have > 56) {
    memset(c->in + have, 0, 64 - have);
    md5_block(c->buf, c->in);
    have = 0;
  }
  memset(c->in + have, 0, 56 - have);
  for (i = 0; i < 4; i++) {
    c->in[56 + i] = (unsigned char) (lo >> (8 * i));
    c->in[60 + i] = (unsigned char) (hi >> (8 * i));
  }
  md5_block(c->buf, c->in);
  for (i = 0; i < 16; i++) digest[i] = (unsigned char) (c->buf[i / 4] >> (8 * (i % 4)));
}

// Table-less, four bits at a time
uint32_t mg_crc32(uint32_t crc, const char *buf, size_t len) {
  static const uint32_t t[16] = {
      0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
      0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
      0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
  size_t i;
  crc = ~crc;
  for (i = 0; i < len; i++) {
    crc ^= (unsigned char) buf[i];
    crc = (crc >> 4) ^ t[crc & 15];
    crc = (crc >> 4) ^ t[crc & 15];
  }
  return ~crc;
}
