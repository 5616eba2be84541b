// wasmgoose — SHA-1 (RFC 3174), for the WebSocket handshake.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

static uint32_t rol(uint32_t x, unsigned n) {
  return x << n | x >> (32 - n);
}

// Hashes one 64-byte block into the state
static void sha1_block(uint32_t h[5], const unsigned char *p) {
  uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f, k, t;
  int i;
  for (i = 0; i < 16; i++) {
    w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 |
           (uint32_t) p[4 * i + 2] << 8 | p[4 * i + 3];
  }
  for (; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  for (i = 0; i < 80; i++) {
    if (i < 20) {
      f = (b & c) | (~b & d), k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d, k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d, k = 0xca62c1d6;
    }
    t = rol(a, 5) + f + e + k + w[i];
    e = d, d = c, c = rol(b, 30), b = a, a = t;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void mg_sha1_init(mg_sha1_ctx *ctx) {
  static const uint32_t h0[5] = {0x67452301, 0xefcdab89, 0x98badcfe,
                                 0x10325476, 0xc3d2e1f0};
  memcpy(ctx->state, h0, sizeof(h0));
  ctx->count[0] = ctx->count[1] = 0;
}

// count[0..1]: the message length in bytes so far (low, high 32 bits)
void mg_sha1_update(mg_sha1_ctx *ctx, const unsigned char *data, size_t len) {
  size_t used = ctx->count[0] & 63, i = 0;
  uint32_t lo = ctx->count[0] + (uint32_t) len;
  ctx->count[1] += (uint32_t) ((uint64_t) len >> 32) + (lo < ctx->count[0]);
  ctx->count[0] = lo;
  if (used > 0) {  // fill up the partial block first
    size_t n = len < 64 - used ? len : 64 - used;
    memcpy(ctx->buffer + used, data, n);
    i = n;
    if (used + n < 64) return;
    sha1_block(ctx->state, ctx->buffer);
  }
  for (; i + 64 <= len; i += 64) sha1_block(ctx->state, data + i);
  if (i < len) memcpy(ctx->buffer, data + i, len - i);
}

void mg_sha1_final(unsigned char digest[20], mg_sha1_ctx *ctx) {
  uint64_t bits = ((uint64_t) ctx->count[1] << 32 | ctx->count[0]) << 3;
  unsigned char pad[72] = {0x80};
  size_t used = ctx->count[0] & 63, n = used < 56 ? 56 - used : 120 - used;
  int i;
  for (i = 0; i < 8; i++) pad[n + (size_t) i] = (unsigned char) (bits >> (56 - 8 * i));
  mg_sha1_update(ctx, pad, n + 8);
  for (i = 0; i < 20; i++) {
    digest[i] = (unsigned char) (ctx->state[i / 4] >> (24 - 8 * (i % 4)));
  }
}
