// DNS: message parsing (RFC 1035 section 4) and mg_resolve over the
// driver's resolver.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define DNS_HDR_SIZE 12
#define DNS_MAX_NAME 255  // RFC 1035 2.3.4: octets of a name on the wire
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

static uint16_t get16(const uint8_t *p) {
  return (uint16_t) (p[0] << 8 | p[1]);
}

// Labels (a label with a NUL byte is refused: the name is a C string), or a
// compression pointer (two top bits set) to an earlier name.
// Loop protection: the first pointer must point before itself, and every
// further pointer before the previous pointer's target, so the offsets jumped
// to strictly decrease and decoding ends.
size_t mg_dns_decode_name(const uint8_t *buf, size_t len, size_t ofs,
                          char *to, size_t tolen) {
  size_t i = ofs, n = 0, wire = 1, enc = 0, limit = ofs;
  bool jumped = false;
  if (tolen == 0) return 0;
  to[0] = '\0';
  for (;;) {
    uint8_t b;
    if (i >= len) return 0;
    b = buf[i];
    if ((b & 0xc0) == 0xc0) {
      size_t target;
      if (i + 1 >= len) return 0;
      target = (size_t) (b & 0x3f) << 8 | buf[i + 1];
      if (target >= (jumped ? limit : i)) return 0;
      if (!jumped) enc = i + 2 - ofs;
      jumped = true;
      limit = i = target;
      continue;
    }
    if ((b & 0xc0) != 0) return 0;  // 01 and 10 prefixes are reserved
    if (b == 0) break;
    if (i + 1 + b > len) return 0;
    wire += (size_t) b + 1;
    if (wire > DNS_MAX_NAME) return 0;
    if (n + (n > 0 ? 1 : 0) + b + 1 > tolen) return 0;
    if (memchr(buf + i + 1, 0, b) != NULL) return 0;  // not a C string
    if (n > 0) to[n++] = '.';
    memcpy(to + n, buf + i + 1, b);
    n += b;
    to[n] = '\0';
    i += (size_t) b + 1;
  }
  return jumped ? enc : i + 1 - ofs;
}

size_t mg_dns_parse_rr(const uint8_t *buf, size_t len, size_t ofs,
                       bool is_question, struct mg_dns_rr *rr) {
  char name[DNS_MAX_NAME + 1];
  size_t n, p;
  memset(rr, 0, sizeof(*rr));
  if (buf == NULL || ofs >= len) return 0;
  n = mg_dns_decode_name(buf, len, ofs, name, sizeof(name));
  if (n == 0) return 0;
  p = ofs + n;
  if (len - p < 4) return 0;
  rr->nlen = (uint16_t) n;
  rr->atype = get16(buf + p);
  rr->aclass = get16(buf + p + 2);
  if (is_question) return n + 4;
  if (len - p < 10) return 0;  // type, class, TTL, RDLENGTH
  rr->alen = get16(buf + p + 8);
  if (len - p - 10 < rr->alen) return 0;
  return n + 10 + rr->alen;
}

bool mg_dns_parse(const uint8_t *buf, size_t len, struct mg_dns_message *dm) {
  struct mg_dns_rr rr;
  size_t ofs = DNS_HDR_SIZE, i, n, nq, na;
  uint16_t flags;
  memset(dm, 0, sizeof(*dm));
  if (buf == NULL || len < DNS_HDR_SIZE) return false;
  dm->txnid = get16(buf);
  flags = get16(buf + 2);
  nq = get16(buf + 4);
  na = get16(buf + 6);
  for (i = 0; i < nq; i++) {
    if ((n = mg_dns_parse_rr(buf, len, ofs, true, &rr)) == 0) return false;
    if (i == 0) mg_dns_decode_name(buf, len, ofs, dm->name, sizeof(dm->name));
    ofs += n;
  }
  if ((flags & 0x8000) == 0) return true;  // a query: no answers to read
  for (i = 0; i < na; i++) {
    if ((n = mg_dns_parse_rr(buf, len, ofs, false, &rr)) == 0) return false;
    if (!dm->resolved && rr.aclass == DNS_CLASS_IN &&
        ((rr.atype == DNS_TYPE_A && rr.alen == 4) ||
         (rr.atype == DNS_TYPE_AAAA && rr.alen == 16))) {
      const uint8_t *data = buf + ofs + n - rr.alen;
      memset(&dm->addr, 0, sizeof(dm->addr));
      memcpy(dm->addr.addr.ip, data, rr.alen);
      dm->addr.is_ip6 = rr.alen == 16;
      dm->resolved = true;
      if (dm->name[0] == '\0') {
        mg_dns_decode_name(buf, len, ofs, dm->name, sizeof(dm->name));
      }
    }
    ofs += n;
  }
  return true;
}

// ---- mg_resolve -----------------------------------------------------------------

// Without a resolver in the driver, only IP literals resolve (mg_resolve
// handles those before asking the driver).
__attribute__((weak)) void mg_drv_resolve(struct mg_connection *c,
                                          struct mg_str host) {
  (void) host;
  mg_io_resolved(c, NULL, "no resolver");
}

void mg_io_resolved(struct mg_connection *c, const struct mg_addr *a,
                    const char *err) {
  uint16_t port = c->rem.port;
  if (!c->is_resolving) return;  // cancelled meanwhile
  c->is_resolving = 0;
  mg_io_check(c);
  if (err != NULL || a == NULL) {
    mg_error(c, "failed to resolve: %s", err == NULL ? "no address" : err);
    return;
  }
  c->rem = *a;
  c->rem.port = port;
  mg_call(c, MG_EV_RESOLVE, NULL);
}

void mg_resolve(struct mg_connection *c, const char *url) {
  struct mg_str host = mg_url_host(url);
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  c->rem.port = mg_htons(mg_url_port(url));
  c->is_resolving = 1;
  if (mg_aton(host, &a)) {
    mg_io_resolved(c, &a, NULL);
  } else if (host.len == 0) {
    mg_io_resolved(c, NULL, "no host name");
  } else {
    mg_drv_resolve(c, host);
  }
}

void mg_resolve_cancel(struct mg_connection *c) {
  c->is_resolving = 0;
}
