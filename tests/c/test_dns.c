// Unit tests of the DNS message parser (RFC 1035 section 4): messages built
// by hand, name compression, loop protection and malformed input; and of
// mg_resolve over the fake driver (which has no resolver: IP literals only).
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

// Header: id, flags, qd, an, ns, ar (big-endian)
#define HDR(id, flags, qd, an) \
  (id) >> 8, (id) & 255, (flags) >> 8, (flags) & 255, 0, (qd), 0, (an), 0, 0, 0, 0

// Question "www.example.com" A IN at offset 12; "example.com" is at 16
#define Q_WWW                                                             \
  3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', \
      0, 0, 1, 0, 1

static void test_query(void) {
  static const uint8_t q[] = {HDR(0x1234, 0x0100, 1, 0), Q_WWW};
  struct mg_dns_message dm;
  struct mg_dns_rr rr;
  CHECK(mg_dns_parse(q, sizeof(q), &dm));
  CHECK(dm.txnid == 0x1234);
  CHECK(strcmp(dm.name, "www.example.com") == 0);
  CHECK(!dm.resolved);
  CHECK(mg_dns_parse_rr(q, sizeof(q), 12, true, &rr) == 21);
  CHECK(rr.nlen == 17 && rr.atype == 1 && rr.aclass == 1 && rr.alen == 0);
  // Every truncation of the question is malformed
  {
    size_t n;
    bool all = true;
    for (n = 0; n < sizeof(q); n++) all = all && !mg_dns_parse(q, n, &dm);
    CHECK(all);
  }
}

static void test_answer_a(void) {
  static const uint8_t r[] = {
      HDR(0xbeef, 0x8180, 1, 1), Q_WWW,
      0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34};
  struct mg_dns_message dm;
  struct mg_dns_rr rr;
  char ip[64];
  CHECK(mg_dns_parse(r, sizeof(r), &dm));
  CHECK(dm.txnid == 0xbeef && dm.resolved && !dm.addr.is_ip6);
  mg_snprintf(ip, sizeof(ip), "%M", mg_print_ip, &dm.addr);
  CHECK(strcmp(ip, "93.184.216.34") == 0);
  CHECK(strcmp(dm.name, "www.example.com") == 0);
  CHECK(mg_dns_parse_rr(r, sizeof(r), 33, false, &rr) == 16);
  CHECK(rr.nlen == 2 && rr.atype == 1 && rr.aclass == 1 && rr.alen == 4);
  CHECK(mg_dns_parse_rr(r, sizeof(r) - 1, 33, false, &rr) == 0);  // rdata cut
  CHECK(mg_dns_parse_rr(r, sizeof(r), sizeof(r), false, &rr) == 0);
  CHECK(!mg_dns_parse(r, sizeof(r) - 1, &dm));
}

// A CNAME whose data is compressed ("web" + pointer to "example.com"), then
// the A record of that name (pointer to the CNAME data), then an AAAA
static void test_cname_chain(void) {
  static const uint8_t r[] = {
      HDR(7, 0x8180, 1, 3), Q_WWW,
      // @33: www.example.com CNAME web.example.com (rdata @45)
      0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'e', 'b', 0xc0, 16,
      // @51: web.example.com A 10.0.0.7
      0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7,
      // @67: web.example.com AAAA 2001:db8::1
      0xc0, 45, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0x20, 0x01, 0x0d, 0xb8, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  struct mg_dns_message dm;
  char name[256], ip[64];
  CHECK(mg_dns_decode_name(r, sizeof(r), 45, name, sizeof(name)) == 6);
  CHECK(strcmp(name, "web.example.com") == 0);
  CHECK(mg_dns_decode_name(r, sizeof(r), 51, name, sizeof(name)) == 2);
  CHECK(strcmp(name, "web.example.com") == 0);
  CHECK(mg_dns_parse(r, sizeof(r), &dm));
  CHECK(dm.resolved && !dm.addr.is_ip6);  // the first address record wins
  mg_snprintf(ip, sizeof(ip), "%M", mg_print_ip, &dm.addr);
  CHECK(strcmp(ip, "10.0.0.7") == 0);
  // A small destination: the name does not fit
  CHECK(mg_dns_decode_name(r, sizeof(r), 45, name, 15) == 0);
  CHECK(mg_dns_decode_name(r, sizeof(r), 45, name, 16) == 6);
}

static void test_aaaa(void) {
  static const uint8_t r[] = {
      HDR(9, 0x8180, 0, 1),  // no question: the name comes from the answer
      2, 'v', '6', 0, 0, 28, 0, 1, 0, 0, 0, 1, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 1};
  struct mg_dns_message dm;
  char ip[64];
  CHECK(mg_dns_parse(r, sizeof(r), &dm));
  CHECK(dm.resolved && dm.addr.is_ip6);
  mg_snprintf(ip, sizeof(ip), "%M", mg_print_ip, &dm.addr);
  CHECK(strcmp(ip, "[::1]") == 0 || strcmp(ip, "::1") == 0);
  CHECK(strcmp(dm.name, "v6") == 0);
}

static void test_no_answer(void) {
  // NXDOMAIN (rcode 3), and an MX answer only: parsed, not resolved
  static const uint8_t nx[] = {HDR(1, 0x8183, 1, 0), Q_WWW};
  static const uint8_t mx[] = {HDR(2, 0x8180, 1, 1), Q_WWW, 0xc0, 12, 0, 15,
                               0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 0xc0, 16};
  struct mg_dns_message dm;
  CHECK(mg_dns_parse(nx, sizeof(nx), &dm) && !dm.resolved);
  CHECK(mg_dns_parse(mx, sizeof(mx), &dm) && !dm.resolved);
  // An A record with a wrong length or class is not an address
  {
    static const uint8_t bad[] = {HDR(3, 0x8180, 1, 2), Q_WWW,
                                  0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3,
                                  0xc0, 12, 0, 1, 0, 3, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4};
    CHECK(mg_dns_parse(bad, sizeof(bad), &dm) && !dm.resolved);
  }
}

static void test_malformed(void) {
  struct mg_dns_message dm;
  struct mg_dns_rr rr;
  char name[256];
  // Pointer to itself, and a two-step loop: "a" + pointer back to "a"
  static const uint8_t self[] = {HDR(1, 0x0100, 1, 0), 0xc0, 12, 0, 1, 0, 1};
  static const uint8_t loop[] = {HDR(1, 0x0100, 1, 0), 1, 'a', 0xc0, 12, 0, 1, 0, 1};
  // A forward pointer, reserved label types 01 and 10
  static const uint8_t fwd[] = {HDR(1, 0x0100, 1, 0), 0xc0, 14, 0, 0, 1, 0, 1};
  static const uint8_t r40[] = {HDR(1, 0x0100, 1, 0), 0x41, 'a', 0, 0, 1, 0, 1};
  static const uint8_t r80[] = {HDR(1, 0x0100, 1, 0), 0x81, 'a', 0, 0, 1, 0, 1};
  // A label running past the end, a pointer cut in half
  static const uint8_t past[] = {HDR(1, 0x0100, 1, 0), 9, 'a', 'b'};
  static const uint8_t half[] = {HDR(1, 0x0100, 1, 0), 1, 'a', 0xc0};
  // Pointers into pointers that go backwards are fine: 12 "a", 15 -> 12,
  // 17: "b" -> 15 -> 12 reads b.a
  static const uint8_t chain[] = {HDR(1, 0x0100, 1, 0), 1, 'a', 0, 0xc0, 12,
                                  1, 'b', 0xc0, 15, 0, 1, 0, 1};
  // A pointer chain that goes back up: 12 "x" -> 16; 16 "y" -> 12: the
  // second pointer jumps above the first target
  static const uint8_t updown[] = {HDR(1, 0x0100, 1, 0), 1, 'x', 0xc0, 16,
                                   1, 'y', 0xc0, 12, 0, 1, 0, 1};
  CHECK(!mg_dns_parse(self, sizeof(self), &dm));
  CHECK(!mg_dns_parse(loop, sizeof(loop), &dm));
  CHECK(!mg_dns_parse(fwd, sizeof(fwd), &dm));
  CHECK(!mg_dns_parse(r40, sizeof(r40), &dm));
  CHECK(!mg_dns_parse(r80, sizeof(r80), &dm));
  CHECK(!mg_dns_parse(past, sizeof(past), &dm));
  CHECK(!mg_dns_parse(half, sizeof(half), &dm));
  {  // a label with a NUL byte cannot be a C string
    static const uint8_t nul[] = {HDR(1, 0x0100, 1, 0), 2, 'a', 0, 0, 0, 1, 0, 1};
    CHECK(!mg_dns_parse(nul, sizeof(nul), &dm));
  }
  CHECK(mg_dns_decode_name(chain, sizeof(chain), 17, name, sizeof(name)) == 4);
  CHECK(strcmp(name, "b.a") == 0);
  CHECK(mg_dns_parse_rr(chain, sizeof(chain), 17, true, &rr) == 8);
  CHECK(mg_dns_decode_name(updown, sizeof(updown), 16, name, sizeof(name)) == 0);
  CHECK(mg_dns_decode_name(updown, sizeof(updown), 12, name, sizeof(name)) == 0);
  // Too short for a header; NULL buffer
  CHECK(!mg_dns_parse(self, 11, &dm));
  CHECK(!mg_dns_parse(NULL, 0, &dm));
  CHECK(mg_dns_parse_rr(NULL, 0, 0, true, &rr) == 0);
  // A name of 255 octets on the wire is the limit; 257 is refused
  {
    uint8_t big[12 + 300];
    size_t i, n = 0;
    memset(big, 0, sizeof(big));
    for (i = 0; i < 127; i++) big[12 + n++] = 1, big[12 + n++] = 'z';  // 254
    big[12 + n++] = 0;                                                   // 255
    CHECK(mg_dns_decode_name(big, sizeof(big), 12, name, sizeof(name)) == 255);
    CHECK(strlen(name) == 253);
    n--;
    big[12 + n++] = 1, big[12 + n++] = 'z', big[12 + n++] = 0;  // 257
    CHECK(mg_dns_decode_name(big, sizeof(big), 12, name, sizeof(name)) == 0);
  }
  // Many questions past the data: malformed, not a hang
  {
    static const uint8_t many[] = {0, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
    CHECK(!mg_dns_parse(many, sizeof(many), &dm));
  }
}

// ---- mg_resolve over the fake driver (no resolver) ---------------------------
static int s_resolved, s_errors;
static char s_err[128];
static void rfn(struct mg_connection *c, int ev, void *ev_data) {
  (void) c;
  if (ev == MG_EV_RESOLVE) s_resolved++;
  if (ev == MG_EV_ERROR) {
    s_errors++;
    mg_snprintf(s_err, sizeof(s_err), "%s", (char *) ev_data);
  }
}

static void test_resolve(void) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  char ip[64];
  mg_mgr_init(&mgr);
  c = mg_connect(&mgr, "tcp://127.0.0.1:9", rfn, NULL);
  CHECK(c != NULL);
  mg_resolve(c, "udp://10.1.2.3:5353");
  CHECK(s_resolved == 1 && !c->is_resolving);
  mg_snprintf(ip, sizeof(ip), "%M", mg_print_ip_port, &c->rem);
  CHECK(strcmp(ip, "10.1.2.3:5353") == 0);
  mg_resolve(c, "tcp://[::1]:80");
  CHECK(s_resolved == 2 && c->rem.is_ip6 && mg_ntohs(c->rem.port) == 80);
  // A name: the weak default driver hook has no resolver
  mg_resolve(c, "tcp://example.invalid:80");
  CHECK(s_errors == 1 && strstr(s_err, "failed to resolve") != NULL);
  CHECK(c->is_closing);
  // A late answer after mg_resolve_cancel is dropped
  c = mg_connect(&mgr, "tcp://127.0.0.1:9", rfn, NULL);
  c->is_resolving = 1;
  mg_resolve_cancel(c);
  {
    struct mg_addr a;
    memset(&a, 0, sizeof(a));
    mg_io_resolved(c, &a, NULL);
  }
  CHECK(s_resolved == 2 && !c->is_closing);
  mg_mgr_free(&mgr);
}

int main(void) {
  test_query();
  test_answer_a();
  test_cname_chain();
  test_aaaa();
  test_no_answer();
  test_malformed();
  test_resolve();
  return check_summary();
}
