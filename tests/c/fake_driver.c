// A fake network driver for the native unit tests (see fake_driver.h).
// SPDX-License-Identifier: MIT
#include "fake_driver.h"

uint64_t fake_now = 1000;
struct mg_iobuf fake_out = {NULL, 0, 0, 256};
size_t fake_write_limit = 0;
bool fake_write_stall = false;
unsigned long fake_closed = 0;
unsigned long fake_last_closed_id = 0;
int fake_paused = 0;
static uintptr_t s_next_fd = 100;

uint64_t mg_millis(void) {
  return fake_now;
}

uint64_t mg_now(void) {
  return 1700000000000ULL + fake_now;
}

void mg_drv_init(struct mg_mgr *mgr) {
  (void) mgr;
}

void mg_drv_free(struct mg_mgr *mgr) {
  (void) mgr;
}

bool mg_drv_listen(struct mg_connection *c, const char *url) {
  if (strstr(url, "fail") != NULL) return false;
  c->fd = (void *) s_next_fd++;
  mg_aton(mg_url_host(url), &c->loc);
  c->loc.port = mg_htons(mg_url_port(url));
  return true;
}

void mg_drv_connect(struct mg_connection *c, const char *url) {
  c->fd = (void *) s_next_fd++;
  mg_aton(mg_url_host(url), &c->rem);
  c->rem.port = mg_htons(mg_url_port(url));
  c->is_connecting = 1;
}

void mg_drv_close(struct mg_connection *c) {
  fake_closed++;
  fake_last_closed_id = c->id;
}

void mg_drv_flush(struct mg_connection *c) {
  size_t n = fake_write_stall ? 0 : c->send.len;
  if (fake_write_limit > 0 && n > fake_write_limit) n = fake_write_limit;
  if (n == 0) return;  // like a full socket: wait to be flushed again
  mg_iobuf_add(&fake_out, fake_out.len, c->send.buf, n);
  mg_io_sent(c, n);
}

void mg_drv_pause(struct mg_connection *c, bool paused) {
  (void) c;
  fake_paused = paused;
}

void mg_mgr_poll(struct mg_mgr *mgr, int ms) {
  struct mg_connection *c, *next;
  (void) ms;
  mg_timer_poll(&mgr->timers, fake_now);
  for (c = mgr->conns; c != NULL; c = next) {
    next = c->next;
    mg_call(c, MG_EV_POLL, &fake_now);
    mg_io_check(c);
  }
  mg_io_finish(mgr);
}

struct mg_connection *fake_accept(struct mg_connection *lsn) {
  struct mg_addr loc = lsn->loc, rem;
  struct mg_connection *c;
  memset(&rem, 0, sizeof(rem));
  mg_aton(mg_str("127.0.0.1"), &rem);
  rem.port = mg_htons(40000);
  c = mg_io_accept(lsn, (void *) s_next_fd++, &loc, &rem);
  if (c != NULL) mg_io_finish(lsn->mgr);
  return c;
}

bool fake_alive(struct mg_mgr *mgr, unsigned long id) {
  struct mg_connection *c;
  for (c = mgr->conns; c != NULL; c = c->next) {
    if (c->id == id) return true;
  }
  return false;
}

bool fake_finish(struct mg_connection *c) {
  struct mg_mgr *mgr = c->mgr;
  unsigned long id = c->id;
  mg_io_finish(mgr);
  return fake_alive(mgr, id);
}

bool fake_recv(struct mg_connection *c, const void *buf, size_t len) {
  mg_io_recv(c, buf, len);
  return fake_finish(c);
}

void fake_reset(void) {
  fake_out.len = 0;
}
