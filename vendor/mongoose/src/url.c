// wasmgoose — URL helpers, IP address parsing, byte order.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

// Parts of "scheme://user:pass@host:port/uri"; absent parts are empty
struct url_parts {
  struct mg_str scheme, user, pass, host, port;
  const char *uri;  // "/..." or the end of the authority
};

static bool is_scheme_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

static struct url_parts url_parse(const char *url) {
  struct url_parts u;
  const char *s = url, *e, *at = NULL, *p;
  memset(&u, 0, sizeof(u));
  while (is_scheme_char(*s)) s++;
  if (s > url && strncmp(s, "://", 3) == 0) {
    u.scheme = mg_str_n(url, (size_t) (s - url));
    url = s + 3;
  }
  for (e = url; *e != '\0' && *e != '/' && *e != '?' && *e != '#'; e++) {
    if (*e == '@') at = e;  // the last '@' ends the user info
  }
  u.uri = e;
  if (at != NULL) {
    for (p = url; p < at && *p != ':';) p++;
    u.user = mg_str_n(url, (size_t) (p - url));
    if (p < at) u.pass = mg_str_n(p + 1, (size_t) (at - p - 1));
    url = at + 1;
  }
  if (*url == '[') {  // [IPv6]:port
    for (p = ++url; p < e && *p != ']';) p++;
    u.host = mg_str_n(url, (size_t) (p - url));
    if (p < e) p++;
  } else {
    for (p = url; p < e && *p != ':';) p++;
    u.host = mg_str_n(url, (size_t) (p - url));
  }
  if (p < e && *p == ':') u.port = mg_str_n(p + 1, (size_t) (e - p - 1));
  return u;
}

struct scheme_info {
  const char *name;
  unsigned short port;  // default port
  bool ssl;
};

static const struct scheme_info *scheme_info(struct mg_str scheme) {
  static const struct scheme_info tab[] = {
      {"http", 80, false},   {"ws", 80, false},     {"https", 443, true},
      {"wss", 443, true},    {"mqtt", 1883, false}, {"mqtts", 8883, true},
      {"ssl", 0, true},      {"tls", 0, true},      {"tcp", 0, false},
      {"udp", 0, false}};
  size_t i;
  for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
    if (mg_strcasecmp(scheme, mg_str(tab[i].name)) == 0) return &tab[i];
  }
  return NULL;
}

unsigned short mg_url_port(const char *url) {
  struct url_parts u = url_parse(url);
  const struct scheme_info *si = scheme_info(u.scheme);
  uint16_t port = 0;
  if (u.port.len > 0) {
    bool ok = u.port.buf[0] >= '0' && u.port.buf[0] <= '9' &&
              mg_str_to_num(u.port, 10, &port, sizeof(port));
    return ok ? port : 0;
  }
  return si == NULL ? 0 : si->port;
}

int mg_url_is_ssl(const char *url) {
  const struct scheme_info *si = scheme_info(url_parse(url).scheme);
  return si != NULL && si->ssl;
}

struct mg_str mg_url_host(const char *url) {
  return url_parse(url).host;
}

struct mg_str mg_url_user(const char *url) {
  return url_parse(url).user;
}

struct mg_str mg_url_pass(const char *url) {
  return url_parse(url).pass;
}

// The path (with query) of the URL, or "/" if it has none
const char *mg_url_uri(const char *url) {
  const char *uri = url_parse(url).uri;
  return *uri == '/' ? uri : "/";
}

// Dotted quad: four decimal numbers 0..255 of 1 to 3 digits
static bool aton4(struct mg_str s, uint8_t *ip) {
  size_t i, k = 0, nd = 0;
  unsigned v = 0;
  for (i = 0; i <= s.len; i++) {
    if (i == s.len || s.buf[i] == '.') {
      if (nd == 0 || k >= 4) return false;
      ip[k++] = (uint8_t) v;
      v = 0, nd = 0;
    } else if (s.buf[i] >= '0' && s.buf[i] <= '9' && nd < 3) {
      v = v * 10 + (unsigned) (s.buf[i] - '0'), nd++;
      if (v > 255) return false;
    } else {
      return false;
    }
  }
  return k == 4;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 4291 text form: groups of 1-4 hex digits, at most one "::", an
// optional trailing dotted quad
static bool aton6(struct mg_str s, uint8_t *ip) {
  size_t i = 0, n = 0, gap = SIZE_MAX;  // gap: byte offset of "::"
  memset(ip, 0, 16);
  if (s.len >= 2 && s.buf[0] == ':' && s.buf[1] == ':') gap = 0, i = 2;
  while (i < s.len) {
    size_t j = i;
    unsigned v = 0;
    for (; j < s.len && j - i < 4 && hex_digit(s.buf[j]) >= 0; j++) {
      v = v * 16 + (unsigned) hex_digit(s.buf[j]);
    }
    if (j < s.len && s.buf[j] == '.') {  // embedded IPv4 ends the address
      bool ok = n <= 12 && aton4(mg_str_n(s.buf + i, s.len - i), ip + n);
      if (!ok) return false;
      n += 4;
      break;
    }
    if (j == i || n >= 16) return false;
    ip[n++] = (uint8_t) (v >> 8), ip[n++] = (uint8_t) v;
    if (j == s.len) break;
    if (s.buf[j++] != ':' || j == s.len) return false;
    if (s.buf[j] == ':') {
      if (gap != SIZE_MAX) return false;
      gap = n, j++;
    }
    i = j;
  }
  if (gap == SIZE_MAX) return n == 16;
  if (n > 14) return false;  // "::" stands for at least one group
  memmove(ip + 16 - (n - gap), ip + gap, n - gap);
  memset(ip + gap, 0, 16 - n);
  return true;
}

// Parses "1.2.3.4", "localhost", or an IPv6 address optionally in brackets
// and with a "%scope" suffix (a numeric scope is stored in scope_id, a named
// one is ignored). The port is left alone.
bool mg_aton(struct mg_str str, struct mg_addr *addr) {
  struct mg_str scope = {NULL, 0};
  uint8_t ip[16];
  uint8_t sid = 0;
  if (str.buf == NULL) return false;
  if (str.len >= 2 && str.buf[0] == '[' && str.buf[str.len - 1] == ']') {
    str = mg_str_n(str.buf + 1, str.len - 2);
  }
  if (mg_strcmp(str, mg_str("localhost")) == 0) str = mg_str("127.0.0.1");
  if (aton4(str, ip)) {
    memset(&addr->addr, 0, sizeof(addr->addr));
    memcpy(addr->addr.ip, ip, 4);
    addr->is_ip6 = false;
    return true;
  }
  mg_span(str, &str, &scope, '%');
  if (scope.len > 0 && scope.buf[0] >= '0' && scope.buf[0] <= '9' &&
      !mg_str_to_num(scope, 10, &sid, sizeof(sid))) {
    sid = 0;  // not a number: a named scope
  }
  if (!aton6(str, ip)) return false;
  memcpy(addr->addr.ip, ip, 16);
  addr->scope_id = sid;
  addr->is_ip6 = true;
  return true;
}

uint16_t mg_ntohs(uint16_t net) {
  const uint8_t *p = (const uint8_t *) &net;
  return (uint16_t) (p[0] << 8 | p[1]);
}

uint32_t mg_ntohl(uint32_t net) {
  const uint8_t *p = (const uint8_t *) &net;
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 |
         p[3];
}
