// wasmgoose — SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, unsigned n) {
  return x >> n | x << (32 - n);
}

static void sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64], v[8], t1, t2;
  int i;
  for (i = 0; i < 16; i++) {
    w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 |
           (uint32_t) p[4 * i + 2] << 8 | p[4 * i + 3];
  }
  for (; i < 64; i++) {
    uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  memcpy(v, h, sizeof(v));
  for (i = 0; i < 64; i++) {
    uint32_t e = v[4], a = v[0];
    t1 = v[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
         ((e & v[5]) ^ (~e & v[6])) + K[i] + w[i];
    t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
         ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
    v[7] = v[6], v[6] = v[5], v[5] = v[4], v[4] = v[3] + t1;
    v[3] = v[2], v[2] = v[1], v[1] = v[0], v[0] = t1 + t2;
  }
  for (i = 0; i < 8; i++) h[i] += v[i];
}

void mg_sha256_init(mg_sha256_ctx *ctx) {
  static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                   0xa54ff53a, 0x510e527f, 0x9b05688c,
                                   0x1f83d9ab, 0x5be0cd19};
  memcpy(ctx->state, init, sizeof(init));
  ctx->bits = 0;
  ctx->len = 0;
}

void mg_sha256_update(mg_sha256_ctx *ctx, const unsigned char *data,
                      size_t len) {
  ctx->bits += (uint64_t) len * 8;
  while (len > 0) {
    size_t n = 64 - ctx->len;
    if (ctx->len == 0 && len >= 64) {  // whole blocks straight from the input
      sha256_block(ctx->state, data);
      data += 64, len -= 64;
      continue;
    }
    if (n > len) n = len;
    memcpy(ctx->buffer + ctx->len, data, n);
    ctx->len += (uint32_t) n, data += n, len -= n;
    if (ctx->len == 64) {
      sha256_block(ctx->state, ctx->buffer);
      ctx->len = 0;
    }
  }
}

void mg_sha256_final(unsigned char digest[32], mg_sha256_ctx *ctx) {
  uint64_t bits = ctx->bits;
  int i;
  ctx->buffer[ctx->len++] = 0x80;
  if (ctx->len > 56) {
    memset(ctx->buffer + ctx->len, 0, 64 - ctx->len);
    sha256_block(ctx->state, ctx->buffer);
    ctx->len = 0;
  }
  memset(ctx->buffer + ctx->len, 0, 56 - ctx->len);
  for (i = 0; i < 8; i++) ctx->buffer[56 + i] = (unsigned char) (bits >> (56 - 8 * i));
  sha256_block(ctx->state, ctx->buffer);
  for (i = 0; i < 32; i++) {
    digest[i] = (unsigned char) (ctx->state[i / 4] >> (24 - 8 * (i % 4)));
  }
}

void mg_sha256(uint8_t dst[32], uint8_t *data, size_t datasz) {
  mg_sha256_ctx ctx;
  mg_sha256_init(&ctx);
  mg_sha256_update(&ctx, data, datasz);
  mg_sha256_final(dst, &ctx);
}

void mg_hmac_sha256(uint8_t dst[32], uint8_t *key, size_t keysz, uint8_t *data,
                    size_t datasz) {
  uint8_t k[64], pad[64], inner[32];
  mg_sha256_ctx ctx;
  size_t i;
  memset(k, 0, sizeof(k));
  if (keysz > 64) {
    mg_sha256(k, key, keysz);  // a long key is hashed first
  } else if (keysz > 0) {
    memcpy(k, key, keysz);
  }
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  mg_sha256_init(&ctx);
  mg_sha256_update(&ctx, pad, 64);
  mg_sha256_update(&ctx, data, datasz);
  mg_sha256_final(inner, &ctx);
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  mg_sha256_init(&ctx);
  mg_sha256_update(&ctx, pad, 64);
  mg_sha256_update(&ctx, inner, 32);
  mg_sha256_final(dst, &ctx);
}
