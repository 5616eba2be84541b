// WebAssembly exports of the pure utilities: JSON, JSON-RPC request parsing,
// hashes, encodings, random, glob match, URLs, IP ACLs (see wasm/ABI.md).
// None of them touches the manager or fires events.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("mgw_json_get")
int mgw_json_get(const char *json, int jlen, const char *path, int *toklen) {
  return mg_json_get(mg_str_n(json, (size_t) jlen), path, toklen);
}

EXPORT("mgw_json_unescape")
int mgw_json_unescape(const char *s, int n, char *dst, int dlen) {
  return (int) mg_json_unescape_n(mg_str_n(s, (size_t) n), dst, (size_t) dlen);
}

// Parses a JSON-RPC request: out[0..1] id offset and length, out[2..3] the
// method token, out[4..5] params, out[6] 1 if "jsonrpc" is present (offset
// -1 when a member is absent). Returns 0, or -32700 (not JSON) or -32600
// (not an object).
EXPORT("mgw_rpc_parse")
int mgw_rpc_parse(const char *frame, int len, int *out) {
  static const char *paths[3] = {"$.id", "$.method", "$.params"};
  struct mg_str f = mg_str_n(frame, (size_t) len);
  int i, tl, ofs = mg_json_get(f, "$", &tl);
  if (ofs < 0) return MG_RPC_PARSE_ERROR;
  if (frame[ofs] != '{') return MG_RPC_INVALID_REQUEST;
  for (i = 0; i < 3; i++) {
    out[2 * i] = mg_json_get(f, paths[i], &out[2 * i + 1]);
  }
  out[6] = mg_json_get(f, "$.jsonrpc", NULL) >= 0;
  return 0;
}

EXPORT("mgw_sha1")
void mgw_sha1(const unsigned char *p, int n, unsigned char *out) {
  mg_sha1_ctx ctx;
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, p, (size_t) n);
  mg_sha1_final(out, &ctx);
}

EXPORT("mgw_sha256")
void mgw_sha256(unsigned char *p, int n, unsigned char *out) {
  mg_sha256(out, p, (size_t) n);
}

EXPORT("mgw_hmac_sha256")
void mgw_hmac_sha256(unsigned char *key, int klen, unsigned char *p, int n,
                     unsigned char *out) {
  mg_hmac_sha256(out, key, (size_t) klen, p, (size_t) n);
}

EXPORT("mgw_md5")
void mgw_md5(const unsigned char *p, int n, unsigned char *out) {
  mg_md5_ctx ctx;
  mg_md5_init(&ctx);
  mg_md5_update(&ctx, p, (size_t) n);
  mg_md5_final(&ctx, out);
}

EXPORT("mgw_crc32")
uint32_t mgw_crc32(uint32_t crc, const char *p, int n) {
  return mg_crc32(crc, p, (size_t) n);
}

// base64 (url = 0) or base64url (url = 1); returns the output length
EXPORT("mgw_b64_encode")
int mgw_b64_encode(const unsigned char *p, int n, char *out, int olen,
                   int url) {
  return (int) (url ? mg_base64url_encode(p, (size_t) n, out, (size_t) olen)
                    : mg_base64_encode(p, (size_t) n, out, (size_t) olen));
}

// Returns the decoded length, or -1 if the input is not valid
EXPORT("mgw_b64_decode")
int mgw_b64_decode(const char *p, int n, char *out, int olen, int url) {
  size_t r;
  if (n == 0) return 0;
  r = url ? mg_base64url_decode(p, (size_t) n, out, (size_t) olen)
          : mg_base64_decode(p, (size_t) n, out, (size_t) olen);
  return r == 0 ? -1 : (int) r;
}

EXPORT("mgw_random") int mgw_random(void *p, int n) {
  return mg_random(p, (size_t) n);
}

EXPORT("mgw_random_str") void mgw_random_str(char *p, int n) {
  mg_random_str(p, (size_t) n);
}

// mg_match with captures into caps (room for the wildcards + 1)
EXPORT("mgw_match")
int mgw_match(const char *s, int slen, const char *p, int plen,
              struct mg_str *caps) {
  return mg_match(mg_str_n(s, (size_t) slen), mg_str_n(p, (size_t) plen), caps);
}

// URL parts of the NUL-terminated url: what 0 host, 1 user, 2 pass (written
// as a struct mg_str at out; returns 1), 3 port, 4 is_ssl, 5 uri (returns a
// pointer into url, or to a static "/")
EXPORT("mgw_url") int mgw_url(const char *url, int what, struct mg_str *out) {
  switch (what) {
    case 0: *out = mg_url_host(url); return 1;
    case 1: *out = mg_url_user(url); return 1;
    case 2: *out = mg_url_pass(url); return 1;
    case 3: return mg_url_port(url);
    case 4: return mg_url_is_ssl(url);
    case 5: return (int) (uintptr_t) mg_url_uri(url);
    default: return -1;
  }
}

EXPORT("mgw_url_decode")
int mgw_url_decode(const char *s, int n, char *to, int tolen, int form) {
  return mg_url_decode(s, (size_t) n, to, (size_t) tolen, form);
}

EXPORT("mgw_url_encode")
int mgw_url_encode(const char *s, int n, char *buf, int len) {
  return (int) mg_url_encode(s, (size_t) n, buf, (size_t) len);
}

// mg_check_ip_acl; -2 if ip is not an address
EXPORT("mgw_ip_acl")
int mgw_ip_acl(const char *acl, int alen, const char *ip, int iplen) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  if (!mg_aton(mg_str_n(ip, (size_t) iplen), &a)) return -2;
  return mg_check_ip_acl(mg_str_n(acl, (size_t) alen), &a);
}

EXPORT("mgw_path_is_sane") int mgw_path_is_sane(const char *p, int n) {
  return mg_path_is_sane(mg_str_n(p, (size_t) n));
}

// mg_json_next over the len bytes at obj: out[0..1] key offset and length
// (-1 for arrays), out[2..3] value offset and length, relative to obj.
// Returns the next ofs, 0 at the end (or on invalid input).
EXPORT("mgw_json_next")
int mgw_json_next(const char *obj, int len, int ofs, int *out) {
  struct mg_str key, val;
  size_t next = mg_json_next(mg_str_n(obj, (size_t) len), (size_t) ofs, &key, &val);
  if (next == 0) return 0;
  out[0] = key.buf == NULL ? -1 : (int) (key.buf - obj);
  out[1] = (int) key.len;
  out[2] = (int) (val.buf - obj);
  out[3] = (int) val.len;
  return (int) next;
}
