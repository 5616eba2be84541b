// Native network driver: non-blocking POSIX sockets with epoll (Linux).
// Built for native targets only (the unit tests, bench/native, the addon);
// the WebAssembly build uses wasm/driver.c instead.
// SPDX-License-Identifier: MIT
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mongoose.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FD(c) ((int) (intptr_t) (c)->fd - 1)  // fd is stored + 1: 0 = none
#define SETFD(c, s) ((c)->fd = (void *) (intptr_t) ((s) + 1))

uint64_t mg_millis(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

uint64_t mg_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

void mg_drv_init(struct mg_mgr *mgr) {
  mgr->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (mgr->epoll_fd < 0) MG_ERROR(("epoll_create1: %d", errno));
}

void mg_drv_free(struct mg_mgr *mgr) {
  if (mgr->epoll_fd >= 0) close(mgr->epoll_fd);
  mgr->epoll_fd = -1;
}

// Interest set of c: reads unless paused, writes while output is pending
static void watch(struct mg_connection *c, int op) {
  struct epoll_event ev;
  ev.events = c->is_paused || c->is_eof ? 0 : EPOLLIN | EPOLLRDHUP;
  if (c->is_writable || c->is_connecting) ev.events |= EPOLLOUT;
  ev.data.ptr = c;
  if (epoll_ctl(c->mgr->epoll_fd, op, FD(c), &ev) != 0) {
    mg_error(c, "epoll_ctl: %d", errno);
  }
}

static socklen_t to_sa(const struct mg_addr *a, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  if (a->is_ip6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = a->port;
    memcpy(&s6->sin6_addr, a->addr.ip, 16);
    return sizeof(*s6);
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
    s4->sin_family = AF_INET;
    s4->sin_port = a->port;
    memcpy(&s4->sin_addr, &a->addr.ip4, 4);
    return sizeof(*s4);
  }
}

static void from_sa(const struct sockaddr_storage *ss, struct mg_addr *a) {
  memset(a, 0, sizeof(*a));
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) ss;
    a->is_ip6 = true;
    a->port = s6->sin6_port;
    memcpy(a->addr.ip, &s6->sin6_addr, 16);
  } else {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *) ss;
    a->port = s4->sin_port;
    memcpy(&a->addr.ip4, &s4->sin_addr, 4);
  }
}

static void local_addr(int fd, struct mg_addr *a) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0) from_sa(&ss, a);
}

// Resolve the URL's host into a (numeric, "localhost", or by getaddrinfo)
static bool resolve(const char *url, struct mg_addr *a) {
  struct mg_str host = mg_url_host(url);
  memset(a, 0, sizeof(*a));
  a->port = mg_htons(mg_url_port(url));
  if (host.len == 0) return true;  // all interfaces
  if (!mg_aton(host, a)) {
    char name[256];
    struct addrinfo hints, *res = NULL;
    uint16_t port = a->port;
    if (host.len >= sizeof(name)) return false;
    memcpy(name, host.buf, host.len);
    name[host.len] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || res == NULL) return false;
    from_sa((struct sockaddr_storage *) res->ai_addr, a);
    a->port = port;
    freeaddrinfo(res);
  }
  return true;
}

static int new_socket(struct mg_connection *c, const struct mg_addr *a) {
  int s = socket(a->is_ip6 ? AF_INET6 : AF_INET,
                 (c->is_udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
                     SOCK_CLOEXEC,
                 0);
  if (s >= 0) SETFD(c, s);
  return s;
}

bool mg_drv_listen(struct mg_connection *c, const char *url) {
  struct sockaddr_storage ss;
  int s, on = 1;
  if (!resolve(url, &c->loc)) return false;
  if ((s = new_socket(c, &c->loc)) < 0) return false;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (bind(s, (struct sockaddr *) &ss, to_sa(&c->loc, &ss)) != 0 ||
      (!c->is_udp && listen(s, 511) != 0)) {
    MG_ERROR(("bind/listen %s: errno %d", url, errno));
    close(s);
    c->fd = NULL;
    return false;
  }
  local_addr(s, &c->loc);
  watch(c, EPOLL_CTL_ADD);
  return true;
}

void mg_drv_connect(struct mg_connection *c, const char *url) {
  struct sockaddr_storage ss;
  int s;
  if (!resolve(url, &c->rem)) return mg_error(c, "cannot resolve %s", url);
  if ((s = new_socket(c, &c->rem)) < 0) return mg_error(c, "socket: %d", errno);
  c->is_connecting = 1;
  if (connect(s, (struct sockaddr *) &ss, to_sa(&c->rem, &ss)) != 0 &&
      errno != EINPROGRESS) {
    return mg_error(c, "connect: errno %d", errno);
  }
  local_addr(s, &c->loc);
  watch(c, EPOLL_CTL_ADD);
}

void mg_drv_close(struct mg_connection *c) {
  if (c->fd == NULL) return;
  epoll_ctl(c->mgr->epoll_fd, EPOLL_CTL_DEL, FD(c), NULL);
  close(FD(c));
  c->fd = NULL;
}

void mg_drv_flush(struct mg_connection *c) {
  bool was = c->is_writable;
  while (c->send.len > 0) {
    ssize_t n = send(FD(c), c->send.buf, c->send.len, MSG_NOSIGNAL);
    if (n > 0) {
      mg_io_sent(c, (size_t) n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      break;
    } else {
      return mg_error(c, "send: errno %d", errno);
    }
  }
  c->is_writable = c->send.len > 0;  // wait for EPOLLOUT while data is left
  if (was != c->is_writable) watch(c, EPOLL_CTL_MOD);
}

void mg_drv_pause(struct mg_connection *c, bool paused) {
  (void) paused;
  watch(c, EPOLL_CTL_MOD);
}

static void accept_all(struct mg_connection *lsn) {
  for (;;) {
    struct sockaddr_storage ss;
    struct mg_addr rem, loc;
    socklen_t len = sizeof(ss);
    struct mg_connection *c;
    int s = accept4(FD(lsn), (struct sockaddr *) &ss, &len,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);
    int on = 1;
    if (s < 0) break;
    from_sa(&ss, &rem);
    local_addr(s, &loc);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    c = mg_io_accept(lsn, (void *) (intptr_t) (s + 1), &loc, &rem);
    if (c == NULL) {
      close(s);
    } else {
      watch(c, EPOLL_CTL_ADD);
    }
  }
}

static void read_conn(struct mg_connection *c) {
  static char buf[65536];
  ssize_t n = recv(FD(c), buf, sizeof(buf), 0);
  if (n > 0) {
    mg_io_recv(c, buf, (size_t) n);
  } else if (n == 0) {
    mg_io_eof(c);
    watch(c, EPOLL_CTL_MOD);  // nothing more to read: stop polling for it
  } else if (errno != EAGAIN && errno != EINTR) {
    mg_error(c, "recv: errno %d", errno);
  }
}

static void connected(struct mg_connection *c) {
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(FD(c), SOL_SOCKET, SO_ERROR, &err, &len);
  local_addr(FD(c), &c->loc);
  mg_io_connected(c, err == 0 ? NULL : strerror(err));
  if (err == 0) watch(c, EPOLL_CTL_MOD);
}

// Milliseconds until the earliest timer, capped at ms
static int next_timeout(struct mg_mgr *mgr, int ms) {
  uint64_t now = mg_millis();
  struct mg_timer *t;
  for (t = mgr->timers; t != NULL; t = t->next) {
    uint64_t left = t->expire > now ? t->expire - now : 0;
    if (ms < 0 || left < (uint64_t) ms) ms = (int) left;
  }
  return ms;
}

void mg_mgr_poll(struct mg_mgr *mgr, int ms) {
  struct epoll_event evs[64];
  struct mg_connection *c, *next;
  uint64_t now;
  int i, n;
  mg_io_finish(mgr);
  n = epoll_wait(mgr->epoll_fd, evs, 64, next_timeout(mgr, ms));
  for (i = 0; i < n; i++) {
    c = (struct mg_connection *) evs[i].data.ptr;
    if (c->is_listening) {
      accept_all(c);
    } else if (c->is_connecting) {
      connected(c);
    } else {
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        read_conn(c);
      }
      if ((evs[i].events & EPOLLOUT) && !c->is_closing) mg_io_check(c);
    }
  }
  mg_io_finish(mgr);  // frees happen only here, after all events are seen
  now = mg_millis();
  mg_timer_poll(&mgr->timers, now);
  for (c = mgr->conns; c != NULL; c = next) {
    next = c->next;
    mg_call(c, MG_EV_POLL, &now);
    if (c->is_closing || c->is_draining) mg_io_check(c);
  }
  mg_io_finish(mgr);
}
