// The native C hello server: the same core with the epoll driver, answering
// the seeds' benchmark request. The physical limit of this design on a machine.
// Usage: hello [PORT]   (default 8080, on 0.0.0.0). With the environment
// variable STATIC_DIR set, GET /static/... serves the files under STATIC_DIR
// with mg_http_serve_dir (the benchmark's static-file rows).
// SPDX-License-Identifier: MIT
#include <signal.h>

#include "mongoose.h"

static volatile sig_atomic_t s_stop;

static void on_signal(int sig) {
  s_stop = sig;
}

static const char *s_static_dir;  // STATIC_DIR, or NULL

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (s_static_dir != NULL && hm->uri.len > 8 &&
        memcmp(hm->uri.buf, "/static/", 8) == 0) {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_static_dir;
      mg_http_serve_dir(c, hm, &opts);
    } else if (mg_strcmp(hm->uri, mg_str("/")) == 0) {
      mg_http_reply(c, 200, "Content-Type: application/json\r\n", "%s",
                    "{\"message\":\"Hello, World!\"}");
    } else {
      mg_http_reply(c, 404, "Content-Type: application/json\r\n", "%s",
                    "{\"error\":\"Not Found\"}");
    }
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  char url[64];
  mg_snprintf(url, sizeof(url), "http://0.0.0.0:%s", argc > 1 ? argv[1] : "8080");
  s_static_dir = getenv("STATIC_DIR");
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  mg_log_set(MG_LL_ERROR);
  mg_mgr_init(&mgr);
  if (mg_http_listen(&mgr, url, handler, NULL) == NULL) return 1;
  printf("native hello listening on %s\n", url);
  fflush(stdout);
  while (s_stop == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
