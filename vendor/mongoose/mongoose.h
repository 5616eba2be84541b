// wasmgoose — our own implementation of the public Mongoose 7 C API.
// Written from the API description in MONGOOSE_API.md; no Mongoose source used.
// SPDX-License-Identifier: MIT
#ifndef MONGOOSE_H
#define MONGOOSE_H

#define MG_VERSION "7.20-wasmgoose"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- Configuration (override with -D) -------------------------------------
#ifndef MG_MAX_HTTP_HEADERS
#define MG_MAX_HTTP_HEADERS 30
#endif
#ifndef MG_IO_SIZE
#define MG_IO_SIZE 2048  // recv buffer growth step
#endif
#ifndef MG_MAX_RECV_SIZE
#define MG_MAX_RECV_SIZE (3UL * 1024UL * 1024UL)  // largest buffered message
#endif
#ifndef MG_DATA_SIZE
#define MG_DATA_SIZE 32  // size of mg_connection::data
#endif
#ifndef MG_PATH_MAX
#define MG_PATH_MAX 256
#endif
#ifndef MG_HTTP_MAX_HEAD
#define MG_HTTP_MAX_HEAD 16384  // request line + headers; larger gets 431
#endif
#ifndef MG_HTTP_SEND_HWM
#define MG_HTTP_SEND_HWM (1024UL * 1024UL)  // output queued before pipelined
#endif                                      // requests wait for the peer

// ---- Strings ----------------------------------------------------------------
struct mg_str {
  char *buf;   // not necessarily NUL-terminated
  size_t len;  // length in bytes
};

#define MG_C_STR(a) \
  { (char *) (a), sizeof(a) - 1 }

struct mg_str mg_str_s(const char *s);
struct mg_str mg_str_n(const char *s, size_t n);
#define mg_str(s) mg_str_s(s)
int mg_casecmp(const char *s1, const char *s2);
int mg_strcmp(const struct mg_str str1, const struct mg_str str2);
int mg_strcasecmp(const struct mg_str str1, const struct mg_str str2);
struct mg_str mg_strdup(const struct mg_str s);
bool mg_match(struct mg_str str, struct mg_str pattern, struct mg_str *caps);
bool mg_span(struct mg_str s, struct mg_str *a, struct mg_str *b, char delim);
bool mg_str_to_num(struct mg_str str, int base, void *val, size_t val_len);

// ---- IO buffers ---------------------------------------------------------------
struct mg_iobuf {
  unsigned char *buf;  // data
  size_t size;         // allocated size
  size_t len;          // used bytes
  size_t align;        // allocation granularity (0 means 1)
};

int mg_iobuf_init(struct mg_iobuf *io, size_t size, size_t align);
int mg_iobuf_resize(struct mg_iobuf *io, size_t size);
void mg_iobuf_free(struct mg_iobuf *io);
size_t mg_iobuf_add(struct mg_iobuf *io, size_t ofs, const void *buf,
                    size_t len);
size_t mg_iobuf_del(struct mg_iobuf *io, size_t ofs, size_t len);

// ---- printf -------------------------------------------------------------------
typedef void (*mg_pfn_t)(char, void *);                  // output one char
typedef size_t (*mg_pm_t)(mg_pfn_t, void *, va_list *);  // %M printer

size_t mg_vxprintf(void (*fn)(char, void *), void *arg, const char *fmt,
                   va_list *ap);
size_t mg_xprintf(void (*fn)(char, void *), void *arg, const char *fmt, ...);
size_t mg_vsnprintf(char *buf, size_t len, const char *fmt, va_list *ap);
size_t mg_snprintf(char *buf, size_t len, const char *fmt, ...);
char *mg_vmprintf(const char *fmt, va_list *ap);
char *mg_mprintf(const char *fmt, ...);

// Output functions usable as mg_pfn_t
void mg_pfn_iobuf(char ch, void *param);  // param: struct mg_iobuf *
void mg_pfn_stdout(char c, void *param);

// %M printers
size_t mg_print_base64(void (*out)(char, void *), void *arg, va_list *ap);
size_t mg_print_esc(void (*out)(char, void *), void *arg, va_list *ap);
size_t mg_print_hex(void (*out)(char, void *), void *arg, va_list *ap);
size_t mg_print_ip(void (*out)(char, void *), void *arg, va_list *ap);
size_t mg_print_ip_port(void (*out)(char, void *), void *arg, va_list *ap);
size_t mg_print_ip4(void (*out)(char, void *), void *arg, va_list *ap);
size_t mg_print_ip6(void (*out)(char, void *), void *arg, va_list *ap);
size_t mg_print_mac(void (*out)(char, void *), void *arg, va_list *ap);

// %m with MG_ESC("str"): JSON-escaped, double-quoted string
#define MG_ESC(str) mg_print_esc, 0, (str)

// ---- Logging ------------------------------------------------------------------
enum { MG_LL_NONE, MG_LL_ERROR, MG_LL_INFO, MG_LL_DEBUG, MG_LL_VERBOSE };
extern int mg_log_level;
#define mg_log_set(level_) mg_log_level = (level_)
void mg_log_prefix(int ll, const char *file, int line, const char *fname);
void mg_log(const char *fmt, ...);
void mg_hexdump(const void *buf, size_t len);
void mg_log_set_fn(mg_pfn_t fn, void *param);

#define MG_LOG(level, args)                                   \
  do {                                                        \
    if ((level) <= mg_log_level) {                            \
      mg_log_prefix((level), __FILE__, __LINE__, __func__);   \
      mg_log args;                                            \
    }                                                         \
  } while (0)
#define MG_ERROR(args) MG_LOG(MG_LL_ERROR, args)
#define MG_INFO(args) MG_LOG(MG_LL_INFO, args)
#define MG_DEBUG(args) MG_LOG(MG_LL_DEBUG, args)
#define MG_VERBOSE(args) MG_LOG(MG_LL_VERBOSE, args)

// ---- Timers -------------------------------------------------------------------
struct mg_timer {
  uint64_t period_ms;       // timer period in milliseconds
  uint64_t expire;          // expiration timestamp in milliseconds
  unsigned flags;           // MG_TIMER_* flags
  void (*fn)(void *);       // function to call
  void *arg;                // its argument
  struct mg_timer *next;    // linkage
};

#define MG_TIMER_ONCE 0        // call once
#define MG_TIMER_REPEAT 1      // call periodically
#define MG_TIMER_RUN_NOW 2     // call immediately when the timer is set
#define MG_TIMER_CALLED 4      // has been called at least once
#define MG_TIMER_AUTODELETE 8  // free() the timer when done

void mg_timer_init(struct mg_timer **head, struct mg_timer *t, uint64_t ms,
                   unsigned flags, void (*fn)(void *), void *arg);
void mg_timer_free(struct mg_timer **head, struct mg_timer *t);
void mg_timer_poll(struct mg_timer **head, uint64_t new_ms);
bool mg_timer_expired(uint64_t *expiration, uint64_t period, uint64_t now);
uint64_t mg_millis(void);  // monotonic milliseconds (provided by the driver)
uint64_t mg_now(void);     // wall-clock milliseconds since the epoch

// ---- Network addresses ----------------------------------------------------------
struct mg_addr {
  union {
    uint8_t ip[16];
    uint32_t ip4;
    uint64_t ip6[2];
  } addr;
  uint16_t port;      // network byte order
  uint8_t scope_id;   // IPv6 scope id
  bool is_ip6;
};

bool mg_aton(struct mg_str str, struct mg_addr *addr);
uint16_t mg_ntohs(uint16_t net);
uint32_t mg_ntohl(uint32_t net);
#define mg_htons(x) mg_ntohs(x)
#define mg_htonl(x) mg_ntohl(x)

// ---- URL ----------------------------------------------------------------------
unsigned short mg_url_port(const char *url);
int mg_url_is_ssl(const char *url);
struct mg_str mg_url_host(const char *url);
struct mg_str mg_url_user(const char *url);
struct mg_str mg_url_pass(const char *url);
const char *mg_url_uri(const char *url);

// ---- Events -------------------------------------------------------------------
enum {
  MG_EV_ERROR,       // Error                        char *error_message
  MG_EV_OPEN,        // Connection created           NULL
  MG_EV_POLL,        // mg_mgr_poll iteration        uint64_t *uptime_millis
  MG_EV_RESOLVE,     // Host name is resolved        NULL
  MG_EV_CONNECT,     // Connection established       NULL
  MG_EV_ACCEPT,      // Connection accepted          NULL
  MG_EV_TLS_HS,      // TLS handshake succeeded      NULL
  MG_EV_READ,        // Data received from socket    long *bytes_read
  MG_EV_WRITE,       // Data written to socket       long *bytes_written
  MG_EV_CLOSE,       // Connection closed            NULL
  MG_EV_HTTP_HDRS,   // HTTP headers                 struct mg_http_message *
  MG_EV_HTTP_MSG,    // Full HTTP request/response   struct mg_http_message *
  MG_EV_WS_OPEN,     // Websocket handshake done     struct mg_http_message *
  MG_EV_WS_MSG,      // Websocket msg, text or bin   struct mg_ws_message *
  MG_EV_WS_CTL,      // Websocket control msg        struct mg_ws_message *
  MG_EV_MQTT_CMD,    // MQTT low-level command       struct mg_mqtt_message *
  MG_EV_MQTT_MSG,    // MQTT PUBLISH received        struct mg_mqtt_message *
  MG_EV_MQTT_OPEN,   // MQTT CONNACK received        int *connack_status_code
  MG_EV_SNTP_TIME,   // SNTP time received           uint64_t *epoch_millis
  MG_EV_WAKEUP,      // mg_wakeup() data received    struct mg_str *data
  MG_EV_MDNS_REQ,    // mDNS request                 (unused here)
  MG_EV_MDNS_RESP,   // mDNS response                (unused here)
  MG_EV_MODBUS_REQ,  // Modbus request               (unused here)
  MG_EV_USER         // Starting ID for user events
};

// ---- Manager and connections -------------------------------------------------------
struct mg_connection;
typedef void (*mg_event_handler_t)(struct mg_connection *, int ev,
                                   void *ev_data);

struct mg_dns {
  const char *url;          // DNS server URL
  struct mg_connection *c;  // DNS server connection
};

struct mg_mgr {
  struct mg_connection *conns;  // list of active connections
  struct mg_dns dns4;           // DNS for IPv4
  struct mg_dns dns6;           // DNS for IPv6
  int dnstimeout;               // DNS resolve timeout in milliseconds
  bool use_dns6;                // use DNS6 server by default
  unsigned long nextid;         // next connection ID
  unsigned long timerid;        // next timer ID
  void *userdata;               // arbitrary user data pointer
  void *tls_ctx;                // TLS context (unused: TLS is the host's)
  uint16_t mqtt_id;             // MQTT IDs for pub/sub
  void *active_dns_requests;    // DNS requests in progress
  struct mg_timer *timers;      // active timers
  int epoll_fd;                 // native driver: epoll descriptor
  size_t extraconnsize;         // bytes added to each connection struct
  // ---- private to wasmgoose ----
  struct mg_connection *dirty;  // connections with work to finish
  void *driver;                 // driver-private state
};

struct mg_connection {
  struct mg_connection *next;  // linkage
  struct mg_mgr *mgr;          // our container
  struct mg_addr loc;          // local address
  struct mg_addr rem;          // remote address
  void *fd;                    // driver socket handle
  unsigned long id;            // auto-incrementing unique connection ID
  struct mg_iobuf recv;        // incoming data
  struct mg_iobuf send;        // outgoing data
  struct mg_iobuf prof;        // profile data (unused)
  struct mg_iobuf rtls;        // TLS only (unused)
  mg_event_handler_t fn;       // user-specified event handler function
  void *fn_data;               // user-specified function parameter
  mg_event_handler_t pfn;      // protocol-specific handler function
  void *pfn_data;              // protocol-specific function parameter
  char data[MG_DATA_SIZE];     // arbitrary connection data
  void *tls;                   // TLS specific data (unused)
  unsigned is_listening : 1;   // listening connection
  unsigned is_client : 1;      // outbound (client) connection
  unsigned is_accepted : 1;    // accepted (server) connection
  unsigned is_resolving : 1;   // non-blocking DNS resolution is in progress
  unsigned is_arplooking : 1;  // (unused)
  unsigned is_connecting : 1;  // non-blocking connect is in progress
  unsigned is_tls : 1;         // TLS-enabled connection
  unsigned is_tls_hs : 1;      // TLS handshake is in progress
  unsigned is_udp : 1;         // UDP connection
  unsigned is_websocket : 1;   // WebSocket connection
  unsigned is_mqtt5 : 1;       // MQTT5 protocol
  unsigned is_hexdumping : 1;  // hexdump in/out traffic
  unsigned is_draining : 1;    // send remaining data, then close and free
  unsigned is_closing : 1;     // close and free the connection immediately
  unsigned is_full : 1;        // stop reads, until cleared
  unsigned is_tls_throttled : 1;  // (unused)
  unsigned is_resp : 1;        // response is still being generated
  unsigned is_readable : 1;    // connection is ready to read
  unsigned is_writable : 1;    // connection is ready to write
  // ---- private to wasmgoose ----
  unsigned is_dirty : 1;       // queued on mgr->dirty
  unsigned is_head : 1;        // HTTP: the request being answered is HEAD
  unsigned is_resume : 1;      // HTTP: re-run the parser on buffered input
  unsigned is_paused : 1;      // driver: reads are paused
  unsigned is_eof : 1;         // peer closed: drain once the response is done
  unsigned is_close_after : 1; // HTTP: close after the current response
  unsigned is_http_body : 1;   // HTTP: headers seen, waiting for the body
  unsigned is_sent_100 : 1;    // HTTP: 100 Continue sent for this request
  struct mg_connection *dirty_next;  // linkage of mgr->dirty
};

void mg_mgr_init(struct mg_mgr *mgr);
void mg_mgr_poll(struct mg_mgr *mgr, int ms);
void mg_mgr_free(struct mg_mgr *mgr);
struct mg_connection *mg_listen(struct mg_mgr *mgr, const char *url,
                                mg_event_handler_t fn, void *fn_data);
struct mg_connection *mg_connect(struct mg_mgr *mgr, const char *url,
                                 mg_event_handler_t fn, void *fn_data);
bool mg_send(struct mg_connection *c, const void *buf, size_t len);
size_t mg_printf(struct mg_connection *c, const char *fmt, ...);
size_t mg_vprintf(struct mg_connection *c, const char *fmt, va_list *ap);
void mg_call(struct mg_connection *c, int ev, void *ev_data);
void mg_error(struct mg_connection *c, const char *fmt, ...);
struct mg_connection *mg_alloc_conn(struct mg_mgr *mgr);
void mg_close_conn(struct mg_connection *c);
struct mg_timer *mg_timer_add(struct mg_mgr *mgr, uint64_t milliseconds,
                              unsigned flags, void (*fn)(void *), void *arg);

// ---- HTTP ---------------------------------------------------------------------
struct mg_http_header {
  struct mg_str name;   // header name
  struct mg_str value;  // header value
};

struct mg_http_message {
  struct mg_str method, uri, query, proto;             // request/response line
  struct mg_http_header headers[MG_MAX_HTTP_HEADERS];  // headers
  struct mg_str body;                                  // body
  struct mg_str head;                                  // request + headers
  struct mg_str message;  // request + headers + body
};

struct mg_fs;
struct mg_http_serve_opts {
  const char *root_dir;       // web root directory, must be non-NULL
  const char *ssi_pattern;    // SSI file name pattern, e.g. #.shtml
  const char *extra_headers;  // extra HTTP headers to add in responses
  const char *mime_types;     // extra mime types, ext1=type1,ext2=type2,..
  const char *page404;        // path to the 404 page, or NULL by default
  struct mg_fs *fs;           // filesystem implementation; NULL for POSIX
};

struct mg_http_part {
  struct mg_str name;      // form field name
  struct mg_str filename;  // filename for file uploads
  struct mg_str body;      // part contents
};

struct mg_connection *mg_http_listen(struct mg_mgr *, const char *url,
                                     mg_event_handler_t fn, void *fn_data);
struct mg_connection *mg_http_connect(struct mg_mgr *, const char *url,
                                      mg_event_handler_t fn, void *fn_data);
int mg_http_parse(const char *s, size_t len, struct mg_http_message *);
int mg_http_get_request_len(const unsigned char *buf, size_t buf_len);
void mg_http_printf_chunk(struct mg_connection *cnn, const char *fmt, ...);
void mg_http_write_chunk(struct mg_connection *c, const char *buf, size_t len);
void mg_http_reply(struct mg_connection *, int status_code,
                   const char *headers, const char *body_fmt, ...);
struct mg_str *mg_http_get_header(struct mg_http_message *, const char *name);
struct mg_str mg_http_var(struct mg_str buf, struct mg_str name);
int mg_http_get_var(const struct mg_str *, const char *name, char *, size_t);
int mg_url_decode(const char *s, size_t n, char *to, size_t to_len, int form);
size_t mg_url_encode(const char *s, size_t n, char *buf, size_t len);
struct mg_str mg_http_get_header_var(struct mg_str s, struct mg_str v);
int mg_http_status(const struct mg_http_message *hm);
void mg_http_bauth(struct mg_connection *, const char *user, const char *pass);
void mg_http_creds(struct mg_http_message *, char *, size_t, char *, size_t);

// Binary-safe reply: `hdrs` is a block of "Name: value\r\n" lines (may be
// empty), Content-Length is added, the body is omitted for HEAD requests.
void mg_http_reply_raw(struct mg_connection *c, int status, const char *hdrs,
                       size_t hlen, const void *body, size_t blen);
const char *mg_http_status_text(int status);  // "OK", "Not Found", ...

// ---- WebSocket (RFC 6455) ------------------------------------------------------
#define WEBSOCKET_OP_CONTINUE 0
#define WEBSOCKET_OP_TEXT 1
#define WEBSOCKET_OP_BINARY 2
#define WEBSOCKET_OP_CLOSE 8
#define WEBSOCKET_OP_PING 9
#define WEBSOCKET_OP_PONG 10
#ifndef MG_WS_MAX_MSG
#define MG_WS_MAX_MSG MG_MAX_RECV_SIZE  // larger messages: close 1009
#endif

struct mg_ws_message {
  struct mg_str data;  // message (or control frame) payload
  uint8_t flags;       // first byte of the (first) frame: FIN bit 7, opcode 0-3
};

struct mg_connection *mg_ws_connect(struct mg_mgr *, const char *url,
                                    mg_event_handler_t fn, void *fn_data,
                                    const char *fmt, ...);
void mg_ws_upgrade(struct mg_connection *, struct mg_http_message *,
                   const char *fmt, ...);
size_t mg_ws_send(struct mg_connection *, const void *buf, size_t len, int op);
size_t mg_ws_wrap(struct mg_connection *, size_t len, int op);
size_t mg_ws_printf(struct mg_connection *c, int op, const char *fmt, ...);
size_t mg_ws_vprintf(struct mg_connection *c, int op, const char *fmt,
                     va_list *);
// wasmgoose extensions: one frame with an explicit FIN bit (to send a message
// in fragments: op, then WEBSOCKET_OP_CONTINUE frames, the last with fin), and
// the close handshake with a status code and reason (code 0: no payload).
size_t mg_ws_send_frame(struct mg_connection *c, const void *buf, size_t len,
                        int op, bool fin);
void mg_ws_close(struct mg_connection *c, uint16_t code, const char *reason,
                 size_t reason_len);

// ---- Hashing and encoding ---------------------------------------------------------
typedef struct {
  uint32_t state[5];
  uint32_t count[2];
  unsigned char buffer[64];
} mg_sha1_ctx;
void mg_sha1_init(mg_sha1_ctx *);
void mg_sha1_update(mg_sha1_ctx *, const unsigned char *data, size_t len);
void mg_sha1_final(unsigned char digest[20], mg_sha1_ctx *);
// Both return the output length (0 if buf is too small or the input is bad);
// the output is NUL-terminated when there is room.
size_t mg_base64_encode(const unsigned char *p, size_t n, char *buf, size_t len);
size_t mg_base64_decode(const char *src, size_t n, char *dst, size_t len);

// ---- HTTP: static files and the filesystem (mg_fs) --------------------------
// (section reserved; declarations follow here)



// ---- HTTP: request bodies, multipart, uploads, auth, client -----------------
// (section reserved; declarations follow here)



// ---- HTTP: chunked responses and Server-Sent Events -------------------------
// wasmgoose extensions. mg_http_chunked_start writes the head of a response
// whose body follows as chunks (hdrs: "Name: value\r\n" lines, may be empty;
// Transfer-Encoding: chunked is added); send the body with
// mg_http_write_chunk / mg_http_printf_chunk, an empty chunk ends it.
// mg_http_sse_start starts a 200 text/event-stream response the same way;
// mg_http_sse sends one event as one chunk: "event:" (if event is non-NULL and
// non-empty), "id:" (if id is non-NULL), "retry:" (if retry >= 0), and one
// "data:" line per line of data (CRLF, CR or LF end a line); a field value is
// cut at its first line break. End the stream with an empty chunk.
void mg_http_chunked_start(struct mg_connection *c, int status,
                           const char *hdrs, size_t hlen);
void mg_http_sse_start(struct mg_connection *c, const char *hdrs, size_t hlen);
void mg_http_sse(struct mg_connection *c, const char *event, const char *data,
                 size_t dlen, const char *id, long retry);
// Router helper: splits a query string or url-encoded form s[0..n) at '&' and
// '=' and URL-decodes every name and value ('+' is a space) into dst (n + 1
// bytes are enough); out[2i] / out[2i+1] get the name / value of pair i,
// pointing into dst. Returns the number of pairs (at most max); empty pairs
// and pairs that do not decode are skipped.
size_t mg_http_split_vars(const char *s, size_t n, char *dst,
                          struct mg_str *out, size_t max);



// ---- MQTT 3.1.1 and 5 -------------------------------------------------------
// (section reserved; declarations follow here)



// ---- SNTP -------------------------------------------------------------------
// (section reserved; declarations follow here)



// ---- DNS --------------------------------------------------------------------
// (section reserved; declarations follow here)



// ---- Wakeup -----------------------------------------------------------------
// (section reserved; declarations follow here)



// ---- JSON -------------------------------------------------------------------
// (section reserved; declarations follow here)



// ---- JSON-RPC ---------------------------------------------------------------
// (section reserved; declarations follow here)



// ---- More hashing, encoding and utilities -----------------------------------
// (section reserved; declarations follow here)



// ---- Limits and timeouts ----------------------------------------------------
// (section reserved; declarations follow here)



// ---- Driver interface (private to wasmgoose) -----------------------------------
// The protocol code above never touches sockets. A driver (src/sock_posix.c for
// native builds, wasm/driver.c for WebAssembly) provides these functions and
// calls the mg_io_* helpers below when the network reports something.
void mg_drv_init(struct mg_mgr *mgr);  // at mg_mgr_init
void mg_drv_free(struct mg_mgr *mgr);  // at mg_mgr_free
bool mg_drv_listen(struct mg_connection *c, const char *url);  // bind+listen
void mg_drv_connect(struct mg_connection *c, const char *url);  // start connect
void mg_drv_close(struct mg_connection *c);   // release the socket
void mg_drv_flush(struct mg_connection *c);   // try to write c->send out
void mg_drv_pause(struct mg_connection *c, bool paused);  // is_full changed

// Helpers the drivers call (src/net.c)
struct mg_connection *mg_io_accept(struct mg_connection *lsn, void *fd,
                                   const struct mg_addr *loc,
                                   const struct mg_addr *rem);
void mg_io_connected(struct mg_connection *c, const char *err);  // NULL: ok
void mg_io_recv(struct mg_connection *c, const void *buf, size_t len);
void mg_io_sent(struct mg_connection *c, size_t n);  // n bytes left c->send
void mg_io_eof(struct mg_connection *c);    // peer closed its write side
void mg_io_finish(struct mg_mgr *mgr);      // flush, resume, close dirty conns
void mg_io_check(struct mg_connection *c);  // queue c on mgr->dirty
void mg_io_free(struct mg_connection *c);   // fire MG_EV_CLOSE, unlink, free

#ifdef __cplusplus
}
#endif
#endif  // MONGOOSE_H
