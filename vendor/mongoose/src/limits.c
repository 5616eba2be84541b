// wasmgoose — limits against slow clients and floods: header, body and idle
// timeouts, stalled output, a connection cap per listener, graceful drain.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

// Phases a connection can be in, as seen by the sweep
enum { PH_NONE, PH_IDLE, PH_HEAD, PH_BODY, PH_SEND };

#define SWEEP_MAX_MS 1000U  // the sweep runs at least this often...
#define SWEEP_MIN_MS 20U    // ...and at most this often
#define SHRINK_MS 500U      // idle this long: the empty I/O buffers are freed

void mg_limits_get(const struct mg_connection *lsn, struct mg_limits *l) {
  l->idle_ms = lsn->lim_idle;
  l->header_ms = lsn->lim_header;
  l->body_ms = lsn->lim_body;
  l->max_conns = lsn->lim_max;
}

void mg_limits_set(struct mg_connection *lsn, const struct mg_limits *l) {
  lsn->lim_idle = l->idle_ms;
  lsn->lim_header = l->header_ms;
  lsn->lim_body = l->body_ms;
  lsn->lim_max = l->max_conns;
}

void mg_limits_http(struct mg_connection *lsn) {
  lsn->lim_idle = MG_IDLE_TIMEOUT_MS;
  lsn->lim_header = MG_HEADER_TIMEOUT_MS;
  lsn->lim_body = MG_BODY_TIMEOUT_MS;
}

bool mg_limits_admit(struct mg_connection *lsn) {
  if (lsn->lim_max == 0 || lsn->lim_count < lsn->lim_max) return true;
  MG_DEBUG(("%lu refused: %lu connections open", lsn->id,
            (unsigned long) lsn->lim_count));
  return false;
}

static bool limited(const struct mg_connection *c) {
  return (c->lim_idle | c->lim_header | c->lim_body) != 0;
}

// Sweep period for a connection's timeouts: a quarter of the shortest one
static uint32_t period_of(const struct mg_connection *c) {
  uint32_t m = SWEEP_MAX_MS * 4, v[3] = {c->lim_idle, c->lim_header, c->lim_body};
  size_t i;
  for (i = 0; i < 3; i++) {
    if (v[i] != 0 && v[i] < m) m = v[i];
  }
  m /= 4;
  return m < SWEEP_MIN_MS ? SWEEP_MIN_MS : m;
}

static int phase_of(const struct mg_connection *c) {
  if (c->is_websocket || c->is_closing || c->is_draining) return PH_NONE;
  if (c->send.len > 0) return PH_SEND;
  // A body streamed to the application (mg_http_body_stream): the client's turn
  if (c->is_http_body && c->pfn_data != NULL && !c->is_full) return PH_BODY;
  if (c->is_resp || c->is_full) return PH_NONE;  // the application's turn
  if (c->pfn == NULL) return PH_IDLE;  // raw TCP: no requests to time
  if (c->is_http_body) return PH_BODY;
  if (c->recv.len > 0 || !c->lim_out) return PH_HEAD;  // first request too
  return PH_IDLE;
}

// Answers 408 and closes; a connection that sent nothing is just closed
static void timeout_408(struct mg_connection *c, const char *what) {
  MG_DEBUG(("%lu %s timeout", c->id, what));
  if (c->recv.len == 0 && !c->is_http_body) {
    c->is_closing = 1;
  } else if (c->is_resp && c->pfn_data != NULL) {
    c->is_closing = 1;  // a streamed body stalled: its response may have begun
  } else {
    mg_iobuf_del(&c->recv, 0, c->recv.len);
    c->is_http_body = c->is_sent_100 = c->is_head = 0;
    c->is_close_after = 1;
    mg_http_reply(c, 408, "Content-Type: text/plain\r\n", "Request Timeout\n");
    c->is_draining = 1;
  }
  mg_io_check(c);
}

// A keep-alive connection between requests holds no I/O buffers: after
// SHRINK_MS without traffic its empty recv and send buffers are freed (the
// next request allocates them again). Idle connections then cost only their
// struct. Not while a protocol hook (a streamed file or upload) owns c.
static void shrink_idle(struct mg_connection *c, uint64_t now) {
  if (now - c->lim_mark < SHRINK_MS || c->pfn_data != NULL) return;
  if (c->recv.len == 0 && c->recv.size > 0) mg_iobuf_free(&c->recv);
  if (c->send.len == 0 && c->send.size > 0) mg_iobuf_free(&c->send);
}

static void check_conn(struct mg_connection *c, uint64_t now) {
  int ph = phase_of(c);
  if (ph != (int) c->lim_phase || c->lim_done) {  // a new phase or request
    c->lim_phase = (unsigned) ph & 7U;
    c->lim_start = c->lim_mark = now;
  } else if (c->lim_active) {
    c->lim_mark = now;
  }
  c->lim_active = c->lim_done = 0;
  switch (ph) {
    case PH_HEAD:
      if (c->lim_header != 0 && now - c->lim_start >= c->lim_header) {
        timeout_408(c, "header");
      }
      break;
    case PH_BODY:
      if (c->lim_body != 0 && now - c->lim_mark >= c->lim_body) {
        timeout_408(c, "body");
      }
      break;
    case PH_IDLE:
    case PH_SEND:
      if (c->lim_idle != 0 && now - c->lim_mark >= c->lim_idle) {
        MG_DEBUG(("%lu %s timeout", c->id, ph == PH_IDLE ? "idle" : "send"));
        c->is_closing = 1;
        mg_io_check(c);
      } else if (ph == PH_IDLE) {
        shrink_idle(c, now);
      }
      break;
    default:
      break;
  }
}

static void sweep(void *arg) {
  struct mg_mgr *mgr = (struct mg_mgr *) arg;
  uint64_t now = mg_millis();
  struct mg_connection *c;
  size_t n = 0;
  for (c = mgr->conns; c != NULL; c = c->next) {
    if (!c->is_accepted || c->is_closing || !limited(c)) continue;
    n++;
    check_conn(c, now);
  }
  if (n == 0) {  // nothing left to watch: no more wake-ups
    mg_timer_free(&mgr->timers, mgr->lim_timer);
    mgr->lim_timer = NULL;
  }
}

void mg_limits_accepted(struct mg_connection *lsn, struct mg_connection *c) {
  struct mg_mgr *mgr = c->mgr;
  c->lim_lsn = lsn;
  lsn->lim_count++;
  c->lim_idle = lsn->lim_idle;
  c->lim_header = lsn->lim_header;
  c->lim_body = lsn->lim_body;
  c->lim_phase = PH_HEAD;
  c->lim_start = c->lim_mark = mg_millis();
  if (limited(c)) {
    uint32_t p = period_of(c);
    if (mgr->lim_timer == NULL) {
      mgr->lim_timer = mg_timer_add(mgr, p, MG_TIMER_REPEAT, sweep, mgr);
    } else if (p < mgr->lim_timer->period_ms) {
      mgr->lim_timer->period_ms = p;
      if (mgr->lim_timer->expire > c->lim_start + p) {
        mgr->lim_timer->expire = c->lim_start + p;
      }
    }
  }
}

void mg_limits_release(struct mg_connection *c) {
  if (c->lim_lsn != NULL && c->lim_lsn->lim_count > 0) c->lim_lsn->lim_count--;
  c->lim_lsn = NULL;
  if (c->is_listening) {  // its connections outlive it
    struct mg_connection *x;
    for (x = c->mgr->conns; x != NULL; x = x->next) {
      if (x->lim_lsn == c) x->lim_lsn = NULL;
    }
  }
}

// Busy: a response is being produced or sent, or a request body is arriving
static bool busy(const struct mg_connection *c) {
  return c->is_resp || c->send.len > 0 || c->is_http_body;
}

size_t mg_mgr_drain(struct mg_mgr *mgr) {
  struct mg_connection *c;
  size_t n = 0;
  for (c = mgr->conns; c != NULL; c = c->next) {
    if (c->is_closing) continue;
    if (c->is_listening) {
      c->is_closing = 1;
    } else if (c->is_websocket) {
      if (!c->is_draining) mg_ws_close(c, 1001, "going away", 10);
      c->is_draining = 1;
      n++;
    } else if (c->is_client) {
      continue;  // outbound: may serve a response in flight; closed last
    } else if (busy(c)) {
      if (c->is_resp || c->is_http_body) {
        c->is_close_after = 1;  // HTTP: close once this response is out
      } else {
        c->is_draining = 1;  // the response is complete: flush, then close
      }
      n++;
    } else if (c->is_draining) {
      n++;
    } else {
      c->is_closing = 1;
    }
    mg_io_check(c);
  }
  return n;
}
