// Manager, connections and events: the driver-independent part of the core.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

void mg_mgr_init(struct mg_mgr *mgr) {
  memset(mgr, 0, sizeof(*mgr));
  mgr->dnstimeout = 3000;
  mgr->nextid = 1;
  mgr->timerid = 1;
  mgr->epoll_fd = -1;
  mgr->dns4.url = "udp://8.8.8.8:53";
  mgr->dns6.url = "udp://[2001:4860:4860::8888]:53";
  mg_drv_init(mgr);
}

void mg_mgr_free(struct mg_mgr *mgr) {
  while (mgr->conns != NULL) mg_io_free(mgr->conns);
  while (mgr->timers != NULL) mg_timer_free(&mgr->timers, mgr->timers);
  mg_drv_free(mgr);
}

struct mg_connection *mg_alloc_conn(struct mg_mgr *mgr) {
  struct mg_connection *c =
      (struct mg_connection *) calloc(1, sizeof(*c) + mgr->extraconnsize);
  if (c == NULL) return NULL;
  c->mgr = mgr;
  c->id = mgr->nextid++;
  c->recv.align = c->send.align = MG_IO_SIZE;
  return c;
}

static void link_conn(struct mg_connection *c) {
  c->next = c->mgr->conns;
  c->mgr->conns = c;
}

static struct mg_connection *new_conn(struct mg_mgr *mgr, const char *url,
                                      mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = mg_alloc_conn(mgr);
  if (c == NULL) return NULL;
  c->fn = fn;
  c->fn_data = fn_data;
  c->is_udp = strncmp(url, "udp:", 4) == 0;
  c->is_tls = mg_url_is_ssl(url) != 0;
  return c;
}

struct mg_connection *mg_listen(struct mg_mgr *mgr, const char *url,
                                mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = new_conn(mgr, url, fn, fn_data);
  if (c == NULL) return NULL;
  c->is_listening = 1;
  if (!mg_drv_listen(c, url)) {
    MG_ERROR(("cannot listen on %s", url));
    free(c);
    return NULL;
  }
  link_conn(c);
  MG_DEBUG(("%lu listening on %s", c->id, url));
  mg_call(c, MG_EV_OPEN, NULL);
  return c;
}

struct mg_connection *mg_connect(struct mg_mgr *mgr, const char *url,
                                 mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = new_conn(mgr, url, fn, fn_data);
  if (c == NULL) return NULL;
  c->is_client = 1;
  link_conn(c);
  mg_call(c, MG_EV_OPEN, (void *) url);
  mg_drv_connect(c, url);
  mg_io_check(c);
  return c;
}

void mg_io_check(struct mg_connection *c) {
  if (c->is_dirty) return;
  c->is_dirty = 1;
  c->dirty_next = c->mgr->dirty;
  c->mgr->dirty = c;
}

bool mg_send(struct mg_connection *c, const void *buf, size_t len) {
  if (c->is_closing) return false;
  if (c->is_udp && len > MG_UDP_MAX) {  // UDP: one mg_send is one datagram
    MG_ERROR(("%lu datagram of %lu bytes is too large", c->id,
              (unsigned long) len));
    return false;
  }
  if (len > 0 && mg_iobuf_add(&c->send, c->send.len, buf, len) == 0) {
    mg_error(c, "out of memory sending %lu bytes", (unsigned long) len);
    return false;
  }
  mg_io_check(c);
  // UDP goes out at once (to c->rem for a listener: the last sender); before
  // a client is connected, what is queued leaves as one datagram.
  if (c->is_udp && c->fd != NULL && !c->is_connecting && !c->is_resolving) {
    bool sent;
    mg_drv_flush(c);
    sent = c->send.len == 0;
    c->send.len = 0;  // not taken: dropped, as the network may drop it
    return sent;
  }
  return true;
}

size_t mg_vprintf(struct mg_connection *c, const char *fmt, va_list *ap) {
  size_t old = c->send.len;
  mg_vxprintf(mg_pfn_iobuf, &c->send, fmt, ap);
  mg_io_check(c);
  return c->send.len - old;
}

size_t mg_printf(struct mg_connection *c, const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  n = mg_vprintf(c, fmt, &ap);
  va_end(ap);
  return n;
}

void mg_call(struct mg_connection *c, int ev, void *ev_data) {
  if (c->pfn != NULL) c->pfn(c, ev, ev_data);
  if (c->fn != NULL) c->fn(c, ev, ev_data);
}

void mg_error(struct mg_connection *c, const char *fmt, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, fmt);
  mg_vsnprintf(buf, sizeof(buf), fmt, &ap);
  va_end(ap);
  MG_ERROR(("%lu %s", c->id, buf));
  c->is_closing = 1;
  mg_io_check(c);
  mg_call(c, MG_EV_ERROR, buf);
}

struct mg_connection *mg_io_accept(struct mg_connection *lsn, void *fd,
                                   const struct mg_addr *loc,
                                   const struct mg_addr *rem) {
  struct mg_connection *c;
  if (!mg_limits_admit(lsn)) return NULL;  // over the connection cap
  c = mg_alloc_conn(lsn->mgr);
  if (c == NULL) return NULL;
  c->fd = fd;
  c->loc = *loc;
  c->rem = *rem;
  c->is_accepted = 1;
  c->is_tls = lsn->is_tls;
  c->fn = lsn->fn;
  c->fn_data = lsn->fn_data;
  c->pfn = lsn->pfn;
  c->pfn_data = lsn->pfn_data;
  link_conn(c);
  mg_limits_accepted(lsn, c);
  mg_call(c, MG_EV_OPEN, NULL);
  mg_call(c, MG_EV_ACCEPT, NULL);
  mg_io_check(c);
  return c;
}

void mg_io_connected(struct mg_connection *c, const char *err) {
  c->is_connecting = c->is_resolving = 0;
  if (err != NULL) {
    mg_error(c, "%s", err);
  } else {
    mg_call(c, MG_EV_CONNECT, NULL);
    mg_io_check(c);
  }
}

void mg_io_recv(struct mg_connection *c, const void *buf, size_t len) {
  long n = (long) len;
  if (c->is_closing || c->is_draining || len == 0) return;  // not wanted
  if (mg_iobuf_add(&c->recv, c->recv.len, buf, len) == 0) {
    mg_error(c, "out of memory receiving %ld bytes", n);
    return;
  }
  if (c->is_hexdumping) mg_hexdump(buf, len);
  c->lim_active = 1;
  mg_io_check(c);
  mg_call(c, MG_EV_READ, &n);
  if (c->is_udp) c->recv.len = 0;  // each MG_EV_READ sees one datagram
  // The protocol had its chance to answer (e.g. HTTP 413); what it left
  // buffered must stay bounded.
  if (c->recv.len > MG_MAX_RECV_SIZE && !c->is_closing && !c->is_draining) {
    mg_error(c, "max_recv_buf_size reached");
  }
}

void mg_io_sent(struct mg_connection *c, size_t n) {
  long nn = (long) n;
  if (c->is_hexdumping) mg_hexdump(c->send.buf, n);
  mg_iobuf_del(&c->send, 0, n);
  c->lim_active = c->lim_done = c->lim_out = 1;
  mg_io_check(c);
  mg_call(c, MG_EV_WRITE, &nn);
}

void mg_io_eof(struct mg_connection *c) {
  c->is_eof = 1;
  mg_io_check(c);
}

static void unlink_dirty(struct mg_connection *c) {
  struct mg_connection **p = &c->mgr->dirty;
  while (*p != NULL && *p != c) p = &(*p)->dirty_next;
  if (*p == c) *p = c->dirty_next;
  c->is_dirty = 0;
}

void mg_io_free(struct mg_connection *c) {
  struct mg_connection **p = &c->mgr->conns;
  mg_call(c, MG_EV_CLOSE, NULL);
  while (*p != NULL && *p != c) p = &(*p)->next;
  if (*p == c) *p = c->next;
  if (c->is_dirty) unlink_dirty(c);
  mg_limits_release(c);
  mg_drv_close(c);
  MG_DEBUG(("%lu closed", c->id));
  mg_iobuf_free(&c->recv);
  mg_iobuf_free(&c->send);
  free(c);
}

void mg_close_conn(struct mg_connection *c) {
  mg_io_free(c);
}

// One connection's pending work, after events have run: resume a parser that
// was waiting for a response (unless the application paused reads: then when
// it resumes them), flush output, follow is_full, close.
static void finish_conn(struct mg_connection *c) {
  if (c->is_resume && !c->is_closing && !c->is_full) {
    long zero = 0;
    c->is_resume = 0;
    if (c->pfn != NULL) c->pfn(c, MG_EV_READ, &zero);
  }
  if (c->is_eof && !c->is_resp && !c->is_resume) c->is_draining = 1;
  if (!c->is_closing && !c->is_listening && c->send.len > 0 && c->fd != NULL &&
      !c->is_connecting) {
    mg_drv_flush(c);
  }
  if (c->is_full != c->is_paused && !c->is_closing) {
    c->is_paused = c->is_full;
    mg_drv_pause(c, c->is_paused);
  }
  if (c->is_closing || (c->is_draining && c->send.len == 0)) mg_io_free(c);
}

void mg_io_finish(struct mg_mgr *mgr) {
  struct mg_connection *c;
  while ((c = mgr->dirty) != NULL) {
    mgr->dirty = c->dirty_next;
    c->dirty_next = NULL;
    c->is_dirty = 0;
    finish_conn(c);
  }
}
