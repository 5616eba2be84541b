// Unit tests of the hashes and encodings: SHA-256 (FIPS 180-4 examples),
// HMAC-SHA256 (RFC 4231), MD5 (RFC 1321 test suite), CRC-32 (check value),
// base64url (RFC 4648 section 10 vectors), and the utilities: random bytes
// and strings, mg_path_is_sane, mg_check_ip_acl.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

static char s_hex[300];

static const char *hex(const unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i < n && 2 * i + 2 < sizeof(s_hex); i++) {
    sprintf(s_hex + 2 * i, "%02x", p[i]);
  }
  s_hex[2 * i] = '\0';
  return s_hex;
}

static size_t unhex(const char *h, unsigned char *out) {
  size_t n = strlen(h) / 2, i;
  for (i = 0; i < n; i++) {
    unsigned v;
    sscanf(h + 2 * i, "%2x", &v);
    out[i] = (unsigned char) v;
  }
  return n;
}

static const char *sha256_hex(const void *p, size_t n) {
  unsigned char d[32];
  mg_sha256(d, (uint8_t *) p, n);
  return hex(d, 32);
}

static const char *md5_hex(const char *s) {
  unsigned char d[16];
  mg_md5_ctx c;
  mg_md5_init(&c);
  mg_md5_update(&c, (const unsigned char *) s, strlen(s));
  mg_md5_final(&c, d);
  return hex(d, 16);
}

static void test_sha256(void) {
  static const char *million_a =
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  unsigned char *big, d[32];
  mg_sha256_ctx c;
  size_t i;
  CHECK(strcmp(sha256_hex("", 0),
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
  CHECK(strcmp(sha256_hex("abc", 3),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  CHECK(strcmp(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
  CHECK(strcmp(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                          "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112),
               "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1") == 0);
  // One million 'a': in one call, and fed in uneven pieces
  big = (unsigned char *) malloc(1000000);
  memset(big, 'a', 1000000);
  CHECK(strcmp(sha256_hex(big, 1000000), million_a) == 0);
  mg_sha256_init(&c);
  for (i = 0; i < 1000000;) {
    size_t n = (i * 7 + 13) % 131;
    if (n > 1000000 - i) n = 1000000 - i;
    mg_sha256_update(&c, big + i, n);
    i += n;
  }
  mg_sha256_final(d, &c);
  CHECK(strcmp(hex(d, 32), million_a) == 0);
  free(big);
  // Every length around the block and padding boundaries: piecewise == whole
  for (i = 0; i < 200; i++) {
    unsigned char buf[200], d1[32], d2[32];
    size_t k;
    for (k = 0; k < i; k++) buf[k] = (unsigned char) (k * 31 + i);
    mg_sha256(d1, buf, i);
    mg_sha256_init(&c);
    for (k = 0; k < i; k++) mg_sha256_update(&c, buf + k, 1);
    mg_sha256_final(d2, &c);
    CHECK(memcmp(d1, d2, 32) == 0);
  }
}

static void hmac_case(const char *key_hex, const char *data_hex, const char *want,
                      size_t trunc) {
  unsigned char key[200], data[200], d[32];
  size_t kn = unhex(key_hex, key), dn = unhex(data_hex, data);
  mg_hmac_sha256(d, key, kn, data, dn);
  CHECK(strncmp(hex(d, 32), want, trunc * 2) == 0);
}

static void test_hmac(void) {
  char key[300];
  // RFC 4231 test cases 1-7
  hmac_case("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32);
  hmac_case("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32);
  hmac_case("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
            "dddddddddddddddddddddddddddddd",
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32);
  hmac_case("0102030405060708090a0b0c0d0e0f10111213141516171819",
            "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
            "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32);
  hmac_case("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
            "a3b6167473100ee06e0c796c2955552b", 16);
  memset(key, 'a', 262);  // 131 bytes of 0xaa
  key[262] = '\0';
  hmac_case(key,
            "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b"
            "6579202d2048617368204b6579204669727374",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32);
  hmac_case(key,
            "5468697320697320612074657374207573696e672061206c6172676572207468616e20"
            "626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c"
            "6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520"
            "686173686564206265666f7265206265696e6720757365642062792074686520484d41"
            "4320616c676f726974686d2e",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32);
  // An empty key and empty data
  hmac_case("", "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad", 32);
}

static void test_md5(void) {
  // RFC 1321 appendix A.5
  CHECK(strcmp(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e") == 0);
  CHECK(strcmp(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661") == 0);
  CHECK(strcmp(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72") == 0);
  CHECK(strcmp(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0") == 0);
  CHECK(strcmp(md5_hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b") == 0);
  CHECK(strcmp(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
               "d174ab98d277d9f5a5611c2c9f419d9f") == 0);
  CHECK(strcmp(md5_hex("1234567890123456789012345678901234567890123456789012345678901234"
                       "5678901234567890"),
               "57edf4a22be3c955ac49da2e2107b67a") == 0);
  {  // piecewise == whole across block boundaries
    unsigned char buf[200], d1[16], d2[16];
    size_t i, k;
    for (i = 0; i < 200; i++) {
      mg_md5_ctx c;
      for (k = 0; k < i; k++) buf[k] = (unsigned char) (k * 17 + i);
      mg_md5_init(&c);
      mg_md5_update(&c, buf, i);
      mg_md5_final(&c, d1);
      mg_md5_init(&c);
      for (k = 0; k < i; k += 3) mg_md5_update(&c, buf + k, k + 3 > i ? i - k : 3);
      mg_md5_final(&c, d2);
      CHECK(memcmp(d1, d2, 16) == 0);
    }
  }
}

static void test_crc32(void) {
  CHECK(mg_crc32(0, "123456789", 9) == 0xcbf43926);
  CHECK(mg_crc32(0, "", 0) == 0);
  CHECK(mg_crc32(0, "a", 1) == 0xe8b7be43);
  CHECK(mg_crc32(0, "The quick brown fox jumps over the lazy dog", 43) == 0x414fa339);
  // Incremental: crc(a + b) == crc(crc(a), b)
  CHECK(mg_crc32(mg_crc32(0, "12345", 5), "6789", 4) == 0xcbf43926);
}

static void test_base64url(void) {
  // RFC 4648 section 10, in the URL alphabet without padding
  static const char *vec[][2] = {{"", ""},         {"f", "Zg"},
                                 {"fo", "Zm8"},    {"foo", "Zm9v"},
                                 {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
                                 {"foobar", "Zm9vYmFy"}};
  unsigned char bin[] = {0xfb, 0xff, 0xbf, 0xfe};
  char buf[64], out[64];
  size_t i, n;
  for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
    n = mg_base64url_encode((const unsigned char *) vec[i][0], strlen(vec[i][0]), buf,
                            sizeof(buf));
    CHECK(n == strlen(vec[i][1]) && strcmp(buf, vec[i][1]) == 0);
    n = mg_base64url_decode(vec[i][1], strlen(vec[i][1]), out, sizeof(out));
    CHECK(n == strlen(vec[i][0]) && memcmp(out, vec[i][0], n) == 0);
  }
  n = mg_base64url_encode(bin, 4, buf, sizeof(buf));
  CHECK(n == 6 && strcmp(buf, "-_-__g") == 0);
  n = mg_base64_encode(bin, 4, buf, sizeof(buf));
  CHECK(n == 8 && strcmp(buf, "+/+//g==") == 0);
  CHECK(mg_base64url_decode("-_-__g", 6, out, sizeof(out)) == 4 && memcmp(out, bin, 4) == 0);
  CHECK(mg_base64url_decode("-_-__g==", 8, out, sizeof(out)) == 4);  // padding ok
  CHECK(mg_base64url_decode("+/+//g", 6, out, sizeof(out)) == 0);   // other alphabet
  CHECK(mg_base64url_decode("Zm9v!", 5, out, sizeof(out)) == 0);
  CHECK(mg_base64url_decode("Z", 1, out, sizeof(out)) == 0);
  CHECK(mg_base64url_encode((const unsigned char *) "foobar", 6, buf, 7) == 0);  // short
  CHECK(mg_base64url_encode((const unsigned char *) "foobar", 6, buf, 8) == 8);
  // Long inputs cross the 256-byte translation chunks of the decoder
  {
    unsigned char data[1000], back[1000];
    char enc[1400];
    for (i = 0; i < sizeof(data); i++) data[i] = (unsigned char) (i * 7 + 3);
    for (i = 0; i <= sizeof(data); i += 37) {
      n = mg_base64url_encode(data, i, enc, sizeof(enc));
      CHECK(n == (i * 4 + 2) / 3 && strchr(enc, '=') == NULL);
      CHECK(mg_base64url_decode(enc, n, (char *) back, sizeof(back)) == i);
      CHECK(memcmp(back, data, i) == 0);
    }
  }
}

static void test_random(void) {
  unsigned char a[300], b[300];
  char s[65];
  size_t i, counts[256];
  memset(a, 0, sizeof(a));
  memset(b, 0, sizeof(b));
  CHECK(mg_random(a, sizeof(a)) && mg_random(b, sizeof(b)));
  CHECK(memcmp(a, b, sizeof(a)) != 0);
  memset(counts, 0, sizeof(counts));
  for (i = 0; i < 20; i++) {
    size_t k;
    CHECK(mg_random_str(s, sizeof(s)) == s);
    CHECK(strlen(s) == 64);
    for (k = 0; k < 64; k++) {
      char c = s[k];
      CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
      counts[(unsigned char) c]++;
    }
  }
  {  // 1280 draws over 62 symbols: at least 40 different ones
    size_t distinct = 0;
    for (i = 0; i < 256; i++) distinct += counts[i] > 0;
    CHECK(distinct >= 40);
  }
  CHECK(mg_random_str(s, 1) == s && s[0] == '\0');
  CHECK(mg_random(a, 0));
}

static void test_path(void) {
  CHECK(mg_path_is_sane(mg_str("")));
  CHECK(mg_path_is_sane(mg_str("/")));
  CHECK(mg_path_is_sane(mg_str("/a/b.txt")));
  CHECK(mg_path_is_sane(mg_str("a..b/c")));
  CHECK(mg_path_is_sane(mg_str("/.hidden/./x")));
  CHECK(mg_path_is_sane(mg_str("/...")));
  CHECK(!mg_path_is_sane(mg_str("..")));
  CHECK(!mg_path_is_sane(mg_str("../etc/passwd")));
  CHECK(!mg_path_is_sane(mg_str("/a/../b")));
  CHECK(!mg_path_is_sane(mg_str("/a/..")));
  CHECK(!mg_path_is_sane(mg_str("a\\..\\b")));
  CHECK(!mg_path_is_sane(mg_str_n("a\0b", 3)));
  CHECK(mg_path_is_sane(mg_str_n("/a/../b", 3)));  // only the first 3 bytes
}

static int acl(const char *list, const char *ip) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  if (!mg_aton(mg_str(ip), &a)) return -99;
  return mg_check_ip_acl(mg_str(list), &a);
}

static void test_acl(void) {
  CHECK(acl("", "1.2.3.4") == 1);
  CHECK(acl("+0.0.0.0/0", "1.2.3.4") == 1);
  CHECK(acl("-0.0.0.0/0", "1.2.3.4") == 0);
  CHECK(acl("+0.0.0.0/0,-1.2.3.4/32", "1.2.3.4") == 0);
  CHECK(acl("+0.0.0.0/0,-1.2.3.4/32", "1.2.3.5") == 1);
  CHECK(acl("+0.0.0.0/0,-1.2.3.4", "1.2.3.4") == 0);  // no mask: one host
  CHECK(acl("-0.0.0.0/0,+10.0.0.0/8", "10.200.1.1") == 1);
  CHECK(acl("-0.0.0.0/0,+10.0.0.0/8", "11.0.0.1") == 0);
  CHECK(acl("+10.0.0.0/8", "11.0.0.1") == 0);  // a list denies the others
  CHECK(acl("+192.168.0.0/23", "192.168.1.255") == 1);
  CHECK(acl("+192.168.0.0/23", "192.168.2.0") == 0);
  CHECK(acl(" +1.2.3.4 , -5.6.7.8 ", "1.2.3.4") == 1);
  // The last matching entry wins
  CHECK(acl("-1.2.3.4,+1.2.3.0/24", "1.2.3.4") == 1);
  CHECK(acl("+1.2.3.0/24,-1.2.3.4", "1.2.3.4") == 0);
  // IPv6
  CHECK(acl("+::1", "::1") == 1);
  CHECK(acl("+::1", "::2") == 0);
  CHECK(acl("-::/0,+2001:db8::/32", "2001:db8:1::5") == 1);
  CHECK(acl("-::/0,+2001:db8::/32", "2001:db9::5") == 0);
  CHECK(acl("+::/0,-fe80::/10", "fe80::1") == 0);
  CHECK(acl("+0.0.0.0/0", "::1") == 0);  // families do not mix
  CHECK(acl("+1.2.3.4", "::ffff:1.2.3.4") == 1);  // IPv4-mapped
  // Malformed lists
  CHECK(acl("1.2.3.4", "1.2.3.4") == -1);
  CHECK(acl("+1.2.3.4/33", "1.2.3.4") == -1);
  CHECK(acl("+::1/129", "::1") == -1);
  CHECK(acl("+1.2.3.4/", "1.2.3.4") == -1);
  CHECK(acl("+1.2.3.4/x", "1.2.3.4") == -1);
  CHECK(acl("+foo", "1.2.3.4") == -1);
  CHECK(acl("+1.2.3.4,,", "1.2.3.4") == -1);
  CHECK(acl("+", "1.2.3.4") == -1);
  CHECK(acl("*1.2.3.4", "1.2.3.4") == -1);
}

static void test_alloc(void) {
  int *p = (int *) mg_calloc(10, sizeof(int));
  int i, sum = 0;
  CHECK(p != NULL);
  for (i = 0; i < 10; i++) sum += p[i];
  CHECK(sum == 0);
  mg_free(p);
  mg_free(NULL);
}

int main(void) {
  test_sha256();
  test_hmac();
  test_md5();
  test_crc32();
  test_base64url();
  test_random();
  test_path();
  test_acl();
  test_alloc();
  return check_summary();
}
