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
#ifndef MG_UDP_MAX
#define MG_UDP_MAX 65507  // largest UDP payload (IPv4); mg_send refuses more
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
  struct mg_timer *lim_timer;   // limits: the sweep timer (NULL when idle)
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
  unsigned lim_active : 1;     // limits: bytes moved since the last sweep
  unsigned lim_done : 1;       // limits: output sent since the last sweep
  unsigned lim_out : 1;        // limits: output was ever sent
  unsigned lim_phase : 3;      // limits: phase at the last sweep
  uint32_t lim_idle, lim_header, lim_body;  // limits: timeouts (ms, 0 off)
  uint32_t lim_max, lim_count;  // limits, listener: cap, accepted and open
  uint64_t lim_start, lim_mark;  // limits: phase start, last progress (ms)
  struct mg_connection *lim_lsn;  // limits: listener that accepted it
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
#include <time.h>

#define MG_FS_READ 1   // st() flags and op() modes
#define MG_FS_WRITE 2
#define MG_FS_DIR 4
#define MG_FS_APPEND 8  // op() with MG_FS_WRITE: keep the contents, write at the end (wasmgoose)

// A filesystem: a table of functions. mg_fs_posix is the default (POSIX calls
// natively, the host runtime's synchronous file calls in WebAssembly).
struct mg_fs {
  int (*st)(const char *path, size_t *size, time_t *mtime);  // 0: no such file
  void (*ls)(const char *path, void (*fn)(const char *, void *), void *);
  void *(*op)(const char *path, int flags);             // open: NULL on error
  void (*cl)(void *fd);                                 // close
  size_t (*rd)(void *fd, void *buf, size_t len);        // read: 0 at EOF/error
  size_t (*wr)(void *fd, const void *buf, size_t len);  // write
  size_t (*sk)(void *fd, size_t offset);                // seek from the start
  bool (*mv)(const char *from, const char *to);         // rename
  bool (*rm)(const char *path);                         // delete a file
  bool (*mkd)(const char *path);                        // create a directory
};

extern struct mg_fs mg_fs_posix;

struct mg_fd {
  void *fd;
  struct mg_fs *fs;
};

struct mg_fd *mg_fs_open(struct mg_fs *fs, const char *path, int flags);
void mg_fs_close(struct mg_fd *fd);
// Next entry of directory `path` after the name in buf ("" for the first):
// true with the name in buf, false at the end.
bool mg_fs_ls(struct mg_fs *fs, const char *path, char *buf, size_t len);
char *mg_file_read(struct mg_fs *fs, const char *path, size_t *size);
bool mg_file_write(struct mg_fs *fs, const char *path, const void *, size_t);
bool mg_file_printf(struct mg_fs *fs, const char *path, const char *fmt, ...);

void mg_http_serve_dir(struct mg_connection *, struct mg_http_message *hm,
                       const struct mg_http_serve_opts *);
void mg_http_serve_file(struct mg_connection *, struct mg_http_message *hm,
                        const char *path, const struct mg_http_serve_opts *);
// The safe local path (below root) of URI path `uri` (URL-decoded); false
// when it would leave the root or holds "..", a backslash, NUL or control
// characters, or does not fit in `len`. wasmgoose extension.
bool mg_http_path(const char *root, struct mg_str uri, char *buf, size_t len);

// wasmgoose extension: streams the body of the request whose headers are in
// hm (call it from MG_EV_HTTP_HDRS) into file `dir`/NAME as it arrives, with
// NAME from the ?name= query variable or else the last URI segment (no path
// components allowed: 400). A Content-Length over max_size is refused with
// 413 before any byte is written; a chunked body with 411. The file is
// written as `dir`/.NAME.part and renamed when complete (removed if the
// connection dies first); then 201 with {"name":..,"size":..} is sent.
void mg_http_upload_stream(struct mg_connection *c, struct mg_http_message *hm,
                           struct mg_fs *fs, const char *dir,
                           uint64_t max_size);

// A file sent in pieces, each by its own request "...?file=NAME&offset=N" with
// the piece as the whole body (call it from MG_EV_HTTP_MSG). Offset 0 creates
// or truncates dir/NAME; a later piece is appended, and its offset must be the
// file's size (else 409 with {"name":..,"size":SIZE}, so a client can resume).
// A NAME with path components, or a missing offset: 400; a file that would
// pass max_size: 413. Answers 200 {"name":..,"size":NEW_SIZE}; returns the
// bytes written, or -1 after an error reply.
long mg_http_upload(struct mg_connection *c, struct mg_http_message *hm,
                    struct mg_fs *fs, const char *dir, size_t max_size);

#ifndef MG_HTTP_FILE_CHUNK
#define MG_HTTP_FILE_CHUNK 65536  // file bytes queued in c->send at a time
#endif

// Private to wasmgoose: a hook on c->pfn_data of an HTTP server connection.
// A response still being produced (a file streamed as the peer reads) or a
// request body consumed as it arrives (a streamed upload) installs one; the
// server passes it every event first. It frees itself (and sets pfn_data
// back to NULL) when done or on MG_EV_CLOSE.
struct mg_http_hook {
  void (*fn)(struct mg_connection *c, int ev, void *ev_data);
  bool is_body;  // consumes the request body (installed from MG_EV_HTTP_HDRS)
};



// ---- HTTP: request bodies, multipart, uploads, auth, client -----------------
// Parses the part of a multipart/form-data body that starts at `ofs` (0 for
// the first; a preamble before the first delimiter is skipped) into *part
// (views into body; may be NULL). Returns the offset of the next part, or 0
// when there is none (the close delimiter, or malformed/truncated input).
size_t mg_http_next_multipart(struct mg_str body, size_t ofs,
                              struct mg_http_part *part);

// wasmgoose extension: a request body delivered as it arrives. Call
// mg_http_body_stream(c, hm) from MG_EV_HTTP_HDRS of a server connection
// whose request has a body (Content-Length > 0, or Transfer-Encoding:
// chunked): the body is then handed to c->fn in pieces, as MG_EV_HTTP_BODY
// events whose ev_data is a struct mg_str * (a chunked body decoded; the
// bytes are valid during the event only), then one with an empty piece
// (buf NULL, len 0) at its end. MG_EV_HTTP_MSG does not fire for it; the
// request is answered as usual (at any time, before or after the end of
// the body), and the next pipelined request is parsed once both are done.
// A body larger than MG_MAX_RECV_SIZE is fine. "Expect: 100-continue" is
// answered. A malformed chunked body fires MG_EV_HTTP_BODY with ev_data
// NULL: the rest of the input is dropped and the connection closes after
// the response (answer 400 then, if no response was started). Set
// c->is_full to stop reading (backpressure): no piece fires while it is set,
// not even of bytes already read (nor a pipelined request after the body);
// they follow once it is cleared. Returns false, doing nothing,
// if the request has no body or c is not at MG_EV_HTTP_HDRS.
#define MG_EV_HTTP_BODY (MG_EV_USER + 8)  // struct mg_str * (NULL: malformed)
bool mg_http_body_stream(struct mg_connection *c, struct mg_http_message *hm);

// wasmgoose extension: an incremental decoder of a chunked body (RFC 9112
// 7.1), zero it to start. Each call looks at buf[0..len) (the input not
// taken yet) and returns how many bytes it takes: framing (a chunk-size line
// with extensions, the line break after data, a trailer line) or chunk data,
// which it points *data at (else data->len is 0). 0: more input is needed
// (an incomplete line stays for the next call), or the body has ended
// (state MG_HTTP_CHUNKED_DONE); -1: malformed (then stays -1).
enum {
  MG_HTTP_CHUNKED_SIZE,      // expecting a chunk-size line
  MG_HTTP_CHUNKED_DATA,      // in chunk data (left: bytes to come)
  MG_HTTP_CHUNKED_DATA_END,  // expecting the line break after data
  MG_HTTP_CHUNKED_TRAILER,   // in the trailer section
  MG_HTTP_CHUNKED_DONE,      // the body has ended
  MG_HTTP_CHUNKED_ERROR      // malformed
};
struct mg_http_chunked {
  uint64_t left;  // data bytes of the current chunk still to come
  size_t tlen;    // trailer bytes so far (at most MG_HTTP_MAX_HEAD)
  int state;      // MG_HTTP_CHUNKED_*
};
long mg_http_chunked_step(struct mg_http_chunked *ck, const char *buf,
                          size_t len, struct mg_str *data);



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
// Packet types (MQTT 3.1.1 2.2.1, MQTT 5 2.1.2)
#define MQTT_CMD_CONNECT 1
#define MQTT_CMD_CONNACK 2
#define MQTT_CMD_PUBLISH 3
#define MQTT_CMD_PUBACK 4
#define MQTT_CMD_PUBREC 5
#define MQTT_CMD_PUBREL 6
#define MQTT_CMD_PUBCOMP 7
#define MQTT_CMD_SUBSCRIBE 8
#define MQTT_CMD_SUBACK 9
#define MQTT_CMD_UNSUBSCRIBE 10
#define MQTT_CMD_UNSUBACK 11
#define MQTT_CMD_PINGREQ 12
#define MQTT_CMD_PINGRESP 13
#define MQTT_CMD_DISCONNECT 14
#define MQTT_CMD_AUTH 15

// MQTT 5 property identifiers (MQTT 5 2.2.2.2)
enum {
  MQTT_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,
  MQTT_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,
  MQTT_PROP_CONTENT_TYPE = 0x03,
  MQTT_PROP_RESPONSE_TOPIC = 0x08,
  MQTT_PROP_CORRELATION_DATA = 0x09,
  MQTT_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,
  MQTT_PROP_SESSION_EXPIRY_INTERVAL = 0x11,
  MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,
  MQTT_PROP_SERVER_KEEP_ALIVE = 0x13,
  MQTT_PROP_AUTHENTICATION_METHOD = 0x15,
  MQTT_PROP_AUTHENTICATION_DATA = 0x16,
  MQTT_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,
  MQTT_PROP_WILL_DELAY_INTERVAL = 0x18,
  MQTT_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,
  MQTT_PROP_RESPONSE_INFORMATION = 0x1A,
  MQTT_PROP_SERVER_REFERENCE = 0x1C,
  MQTT_PROP_REASON_STRING = 0x1F,
  MQTT_PROP_RECEIVE_MAXIMUM = 0x21,
  MQTT_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
  MQTT_PROP_TOPIC_ALIAS = 0x23,
  MQTT_PROP_MAXIMUM_QOS = 0x24,
  MQTT_PROP_RETAIN_AVAILABLE = 0x25,
  MQTT_PROP_USER_PROPERTY = 0x26,
  MQTT_PROP_MAXIMUM_PACKET_SIZE = 0x27,
  MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,
  MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29,
  MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A
};

// MQTT 5 property data types (MQTT 5 1.5)
enum {
  MQTT_PROP_TYPE_BYTE,          // iv
  MQTT_PROP_TYPE_STRING,        // val
  MQTT_PROP_TYPE_STRING_PAIR,   // key, val
  MQTT_PROP_TYPE_BINARY_DATA,   // val
  MQTT_PROP_TYPE_VARIABLE_INT,  // iv
  MQTT_PROP_TYPE_INT,           // iv (four bytes)
  MQTT_PROP_TYPE_SHORT          // iv (two bytes)
};

// mg_mqtt_parse() results
enum { MQTT_OK, MQTT_INCOMPLETE, MQTT_MALFORMED };

struct mg_mqtt_prop {
  uint8_t id;         // MQTT_PROP_*
  uint32_t iv;        // integer value (BYTE, SHORT, INT, VARIABLE_INT)
  struct mg_str key;  // user property name
  struct mg_str val;  // string or binary value
};

struct mg_mqtt_opts {
  struct mg_str user;          // user name, may be empty
  struct mg_str pass;          // password, may be empty
  struct mg_str client_id;     // client id (empty: a random one)
  struct mg_str topic;         // topic (pub, sub, unsub; CONNECT: will topic)
  struct mg_str message;       // message (pub; CONNECT: will message)
  uint8_t qos;                 // QoS (pub, sub; CONNECT: will QoS)
  uint8_t version;             // 4 (3.1.1) or 5; 0 means 4
  uint16_t keepalive;          // keepalive in seconds (CONNECT)
  uint16_t retransmit_id;      // pub: resend with this id and the DUP flag
  bool retain;                 // pub: retain; CONNECT: will retain
  bool clean;                  // CONNECT: clean session
  struct mg_mqtt_prop *props;  // MQTT 5 properties of the packet
  size_t num_props;
  struct mg_mqtt_prop *will_props;  // CONNECT: MQTT 5 will properties
  size_t num_will_props;
};

struct mg_mqtt_message {
  struct mg_str topic;  // PUBLISH topic
  struct mg_str data;   // PUBLISH payload (CONNECT, SUBSCRIBE, UNSUBSCRIBE,
                        // SUBACK, UNSUBACK: the rest of the packet)
  struct mg_str dgram;  // the whole packet
  uint16_t id;          // packet identifier, 0 if none
  uint8_t cmd;          // MQTT_CMD_*
  uint8_t qos;          // PUBLISH QoS
  uint8_t ack;          // CONNACK return code; MQTT 5 reason code
  size_t props_start;   // MQTT 5: offset of the properties in dgram
  size_t props_size;    // MQTT 5: their size in bytes
};

#ifndef MG_MQTT_BROKER_MAX_RETAINED
#define MG_MQTT_BROKER_MAX_RETAINED 100000  // retained messages a broker keeps
#endif

struct mg_connection *mg_mqtt_connect(struct mg_mgr *, const char *url,
                                      const struct mg_mqtt_opts *opts,
                                      mg_event_handler_t fn, void *fn_data);
struct mg_connection *mg_mqtt_listen(struct mg_mgr *mgr, const char *url,
                                     mg_event_handler_t fn, void *fn_data);
void mg_mqtt_login(struct mg_connection *c, const struct mg_mqtt_opts *opts);
uint16_t mg_mqtt_pub(struct mg_connection *c, const struct mg_mqtt_opts *opts);
void mg_mqtt_sub(struct mg_connection *, const struct mg_mqtt_opts *opts);
void mg_mqtt_unsub(struct mg_connection *, const struct mg_mqtt_opts *opts);
int mg_mqtt_parse(const uint8_t *buf, size_t len, uint8_t version,
                  struct mg_mqtt_message *m);
void mg_mqtt_send_header(struct mg_connection *, uint8_t cmd, uint8_t flags,
                         uint32_t len);
void mg_mqtt_ping(struct mg_connection *);
void mg_mqtt_pong(struct mg_connection *);
void mg_mqtt_disconnect(struct mg_connection *, const struct mg_mqtt_opts *);
size_t mg_mqtt_next_prop(struct mg_mqtt_message *, struct mg_mqtt_prop *,
                         size_t ofs);
// wasmgoose extensions: the type of a property id (MQTT_PROP_TYPE_*, -1 if
// unknown), topic filter matching (MQTT 4.7, '$' topics not matched by a
// leading wildcard), and a ready broker on `url` (subscriptions with + and #,
// retained messages, QoS 0/1 delivery, wills, keepalive expiry, clean and
// persistent sessions); fn still sees every event of its connections.
int mg_mqtt_prop_type(uint8_t id);
bool mg_mqtt_match(struct mg_str topic, struct mg_str filter);
struct mg_connection *mg_mqtt_broker(struct mg_mgr *mgr, const char *url,
                                     mg_event_handler_t fn, void *fn_data);



// ---- SNTP -------------------------------------------------------------------
// Connects to an SNTP server (RFC 4330; url NULL: udp://time.google.com:123).
// mg_sntp_request() sends one request (at MG_EV_CONNECT if not connected
// yet); a valid reply fires MG_EV_SNTP_TIME with a uint64_t * of epoch
// milliseconds (the server's clock, corrected by half the round trip). A
// kiss-o'-death, an unsynchronised server, stratum 0 or > 15, a mode other
// than server (4) or a zero transmit time fire MG_EV_ERROR and close; a reply
// whose originate time is not our last request's transmit time is ignored.
#define MG_SNTP_DEFAULT_URL "udp://time.google.com:123"
struct mg_connection *mg_sntp_connect(struct mg_mgr *mgr, const char *url,
                                      mg_event_handler_t fn, void *fn_data);
void mg_sntp_request(struct mg_connection *c);
// wasmgoose: parses one SNTP reply. t1_ms / t4_ms: our wall-clock times of
// sending and receiving (t1_ms 0: no round-trip correction). Returns 0 and
// sets *epoch_ms, or a negative value with *err set to a static message:
// -1 malformed or not a server reply, -2 kiss-o'-death / unsynchronised.
int mg_sntp_parse(const unsigned char *buf, size_t len, uint64_t t1_ms,
                  uint64_t t4_ms, uint64_t *epoch_ms, const char **err);



// ---- DNS --------------------------------------------------------------------
// DNS messages (RFC 1035). mg_dns_parse() parses a message: txnid, the
// name of the first question (names are decoded, with compression pointers,
// into dotted form), and for a response the first A or AAAA answer (resolved
// is then true, addr set). It returns false for a malformed message.
// mg_dns_parse_rr() parses the record at ofs (a question when is_question:
// name, type, class) and returns its length in bytes, 0 if malformed.
// Compression pointers may only point backwards, so decoding terminates.
struct mg_dns_message {
  uint16_t txnid;       // transaction ID
  bool resolved;        // an A or AAAA answer was found: addr is set
  struct mg_addr addr;  // the resolved address
  char name[256];       // the host name (of the first question)
};

struct mg_dns_header {
  uint16_t txnid;  // transaction ID
  uint16_t flags;
  uint16_t num_questions;
  uint16_t num_answers;
  uint16_t num_authority_prs;
  uint16_t num_other_prs;
};

struct mg_dns_rr {
  uint16_t nlen;    // length of the (encoded) name
  uint16_t atype;   // record type
  uint16_t aclass;  // record class
  uint16_t alen;    // length of the data (0 for a question)
};

bool mg_dns_parse(const uint8_t *buf, size_t len, struct mg_dns_message *dm);
size_t mg_dns_parse_rr(const uint8_t *buf, size_t len, size_t ofs,
                       bool is_question, struct mg_dns_rr *rr);
// wasmgoose: decodes the name at ofs into to (dotted, NUL-terminated).
// Returns the length of the encoded name at ofs, 0 if malformed or too long.
size_t mg_dns_decode_name(const uint8_t *buf, size_t len, size_t ofs,
                          char *to, size_t tolen);
// Resolves the host of url through the driver's resolver (the runtime's
// in WebAssembly): sets c->is_resolving, then c->rem (with the URL's port)
// and fires MG_EV_RESOLVE, or MG_EV_ERROR. IP literals resolve at once.
// mg_resolve_cancel() drops a resolution in progress.
void mg_resolve(struct mg_connection *c, const char *url);
void mg_resolve_cancel(struct mg_connection *c);
// Driver hooks (a weak default resolves IP literals only)
void mg_drv_resolve(struct mg_connection *c, struct mg_str host);
void mg_io_resolved(struct mg_connection *c, const struct mg_addr *a,
                    const char *err);  // err NULL: ok



// ---- Wakeup -----------------------------------------------------------------
// mg_wakeup() fires MG_EV_WAKEUP (ev_data: struct mg_str * of buf/len) on
// the connection with that id; false if there is none (the data is dropped).
// In wasmgoose the manager runs in one thread: call mg_wakeup from that
// thread (workers reach it through the host, e.g. Manager.wakeupPort() in
// TypeScript); delivery is immediate. mg_wakeup_init() has nothing to set up.
bool mg_wakeup_init(struct mg_mgr *mgr);
bool mg_wakeup(struct mg_mgr *mgr, unsigned long conn_id, const void *buf,
               size_t len);



// ---- JSON -------------------------------------------------------------------
// (section reserved; declarations follow here)
#ifndef MG_JSON_MAX_DEPTH
#define MG_JSON_MAX_DEPTH 30  // deepest nesting of arrays and objects
#endif
// Error results of mg_json_get (successful results are offsets, >= 0)
enum { MG_JSON_TOO_DEEP = -1, MG_JSON_INVALID = -2, MG_JSON_NOT_FOUND = -3 };

// Paths: "$" (the whole document), "$.a.b", "$[2]", "$.a[0].b". The document
// must be one valid JSON value (RFC 8259) with optional whitespace around it.
int mg_json_get(struct mg_str json, const char *path, int *toklen);
struct mg_str mg_json_get_tok(struct mg_str json, const char *path);
// A number beyond a double's range reads as +/-infinity, which "%g" prints
// as "inf" (not JSON): check isfinite() before echoing arithmetic on it.
bool mg_json_get_num(struct mg_str json, const char *path, double *v);
bool mg_json_get_bool(struct mg_str json, const char *path, bool *v);
long mg_json_get_long(struct mg_str json, const char *path, long dflt);
char *mg_json_get_str(struct mg_str json, const char *path);  // free() it
char *mg_json_get_hex(struct mg_str json, const char *path, int *len);
char *mg_json_get_b64(struct mg_str json, const char *path, int *len);
bool mg_json_unescape(struct mg_str str, char *buf, size_t len);
size_t mg_json_next(struct mg_str obj, size_t ofs, struct mg_str *key,
                    struct mg_str *val);
// wasmgoose extension: unescapes the inside of a JSON string (no quotes)
// into buf; returns the length (which may include NUL bytes from \u0000,
// a NUL is added when there is room) or -1 on a bad escape or a short buf.
long mg_json_unescape_n(struct mg_str str, char *buf, size_t len);



// ---- JSON-RPC ---------------------------------------------------------------
// (section reserved; declarations follow here)
struct mg_rpc_req;
struct mg_rpc {
  struct mg_rpc *next;              // next in the list
  struct mg_str method;             // method pattern (mg_match), owned
  void (*fn)(struct mg_rpc_req *);  // handler
  void *fn_data;                    // handler argument
};

struct mg_rpc_req {
  struct mg_rpc **head;  // list of handlers
  struct mg_rpc *rpc;    // the handler being called
  mg_pfn_t pfn;          // prints the response
  void *pfn_data;        // its argument (e.g. a struct mg_iobuf *)
  void *req_data;        // arbitrary request data
  struct mg_str frame;   // the request, {"id":1,"method":"m","params":[1,2]}
};

// JSON-RPC 2.0 error codes
#define MG_RPC_PARSE_ERROR (-32700)
#define MG_RPC_INVALID_REQUEST (-32600)
#define MG_RPC_METHOD_NOT_FOUND (-32601)
#define MG_RPC_INVALID_PARAMS (-32602)
#define MG_RPC_INTERNAL_ERROR (-32603)

void mg_rpc_add(struct mg_rpc **head, struct mg_str method_pattern,
                void (*handler)(struct mg_rpc_req *), void *handler_data);
void mg_rpc_del(struct mg_rpc **head, void (*handler)(struct mg_rpc_req *));
void mg_rpc_process(struct mg_rpc_req *);
// The formats print one JSON value (the result, the error message)
void mg_rpc_ok(struct mg_rpc_req *, const char *fmt, ...);
void mg_rpc_vok(struct mg_rpc_req *, const char *fmt, va_list *ap);
void mg_rpc_err(struct mg_rpc_req *, int code, const char *fmt, ...);
void mg_rpc_verr(struct mg_rpc_req *, int code, const char *fmt, va_list *);
void mg_rpc_list(struct mg_rpc_req *r);  // handler: result = the patterns



// ---- More hashing, encoding and utilities -----------------------------------
// (section reserved; declarations follow here)
typedef struct {
  uint32_t state[8];
  uint64_t bits;             // message length so far, in bits
  unsigned char buffer[64];  // partial block
  uint32_t len;              // bytes in buffer
} mg_sha256_ctx;
void mg_sha256_init(mg_sha256_ctx *);
void mg_sha256_update(mg_sha256_ctx *, const unsigned char *data, size_t len);
void mg_sha256_final(unsigned char digest[32], mg_sha256_ctx *);
void mg_sha256(uint8_t dst[32], uint8_t *data, size_t datasz);
void mg_hmac_sha256(uint8_t dst[32], uint8_t *key, size_t keysz, uint8_t *data,
                    size_t datasz);

typedef struct {
  uint32_t buf[4];
  uint32_t bits[2];  // message length in bits, low word first
  unsigned char in[64];
} mg_md5_ctx;
void mg_md5_init(mg_md5_ctx *c);
void mg_md5_update(mg_md5_ctx *c, const unsigned char *data, size_t len);
void mg_md5_final(mg_md5_ctx *c, unsigned char digest[16]);

// CRC-32 (IEEE 802.3, reflected 0xEDB88320); start with crc 0
uint32_t mg_crc32(uint32_t crc, const char *buf, size_t len);

// base64url (RFC 4648 section 5): '-' and '_', no padding when encoding,
// padding accepted when decoding. Same results as mg_base64_encode/decode.
size_t mg_base64url_encode(const unsigned char *p, size_t n, char *buf,
                           size_t len);
size_t mg_base64url_decode(const char *src, size_t n, char *dst, size_t len);

bool mg_random(void *buf, size_t len);        // false if no entropy source
char *mg_random_str(char *buf, size_t len);   // len - 1 of [0-9A-Za-z], NUL
bool mg_path_is_sane(const struct mg_str path);  // no ".." segment
// acl: comma-separated [+|-]ip[/bits] (IPv4 or IPv6); the last match wins.
// Returns 1 allow, 0 deny, -1 malformed acl. An empty acl allows everything.
int mg_check_ip_acl(struct mg_str acl, struct mg_addr *remote_ip);
void *mg_calloc(size_t count, size_t size);
void mg_free(void *ptr);



// ---- Limits and timeouts ----------------------------------------------------
// Slow clients and floods (src/limits.c). Listeners made by mg_http_listen get
// the timeouts below; every listener gets the connection cap. Accepted
// connections take their listener's settings when they are accepted. A
// periodic sweep (at most once a second, sooner for short timeouts; only while
// limited connections exist) checks each connection's phase:
// - head: the request line and headers must arrive within header_ms of the
//   connection's accept (first request) or of the head's first byte; else 408
//   (or a silent close if nothing was received) and close;
// - body: a request body must not stall for more than body_ms; else 408, close;
// - idle: a keep-alive connection with nothing to do is closed after idle_ms;
// - send: queued output that the peer does not read for idle_ms: close.
// A connection whose handler is still answering, or whose reads the
// application paused (is_full), or a WebSocket, has no timeout. 0 turns a
// timeout off. Over max_conns live accepted connections, a new connection is
// accepted and closed at once (0: no cap).
#ifndef MG_IDLE_TIMEOUT_MS
#define MG_IDLE_TIMEOUT_MS 60000  // keep-alive idle, and stalled output
#endif
#ifndef MG_HEADER_TIMEOUT_MS
#define MG_HEADER_TIMEOUT_MS 10000  // complete request head
#endif
#ifndef MG_BODY_TIMEOUT_MS
#define MG_BODY_TIMEOUT_MS 30000  // longest pause inside a request body
#endif
#ifndef MG_MAX_CONNS
#define MG_MAX_CONNS 0  // accepted connections per listener (0: no cap)
#endif

struct mg_limits {
  uint32_t idle_ms, header_ms, body_ms;  // 0: off
  uint32_t max_conns;                    // 0: no cap
};
// Settings of a listener (for the connections it accepts from now on)
void mg_limits_get(const struct mg_connection *lsn, struct mg_limits *l);
void mg_limits_set(struct mg_connection *lsn, const struct mg_limits *l);
// Graceful stop, step by step: closes the listeners and every connection that
// is not busy, and asks busy HTTP connections to close after the response in
// progress; WebSocket connections get close 1001. Returns how many
// connections are still open. Call it again (e.g. each 50 ms) until it returns
// 0 or a deadline passes, then mg_mgr_free.
size_t mg_mgr_drain(struct mg_mgr *mgr);
// Hooks for src/net.c
bool mg_limits_admit(struct mg_connection *lsn);  // false: refuse (cap)
void mg_limits_accepted(struct mg_connection *lsn, struct mg_connection *c);
void mg_limits_release(struct mg_connection *c);  // c is being freed
void mg_limits_http(struct mg_connection *lsn);   // HTTP defaults



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
