// The wasmgoose Node-API addon: the same vendor/mongoose core as the WebAssembly
// build, with its native POSIX epoll driver (vendor/mongoose/src/sock_posix.c),
// driven from the JavaScript runtime's event loop without busy polling:
//
// - "uv" mode (Node.js): a libuv uv_poll_t watches the epoll descriptor; when it
//   is readable the loop calls mg_mgr_poll(mgr, 0) once. A uv_timer_t is armed
//   for the earliest core timer.
// - "thread" mode (Deno, Bun, any Node-API host without libuv): a helper thread
//   blocks in poll(2) on the epoll descriptor (it never consumes its events) and,
//   when it becomes readable or the earliest timer is due, asks the JavaScript
//   thread through a thread-safe function to run mg_mgr_poll(mgr, 0); it waits
//   until that step is done before it polls again.
//
// Events go to one JavaScript function, dispatch(connId, ev, listenerIndex). The
// event data (HTTP message, WebSocket message) is read through getters on the
// manager while that call runs (the pointers are valid only then).
// SPDX-License-Identifier: MIT
#include <napi.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "mongoose.h"

namespace {

class Mgr;

// fn_data of a listener (and so of every connection it accepts).
struct Listener {
  Mgr *mgr;
  uint32_t index;  // handler index on the JavaScript side
  uint32_t mask;   // bit ev: deliver event ev to JavaScript
};

// A string or byte argument, without copying typed arrays; strings are
// encoded into a reused buffer (or a std::string when large).
class Bytes {
 public:
  Bytes(Napi::Env env, Napi::Value v, std::string &scratch) {
    if (v.IsTypedArray()) {
      Napi::TypedArray ta = v.As<Napi::TypedArray>();
      Napi::ArrayBuffer ab = ta.ArrayBuffer();
      ptr_ = static_cast<const char *>(ab.Data()) + ta.ByteOffset();
      len_ = ta.ByteLength();
    } else if (v.IsArrayBuffer()) {
      Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
      ptr_ = static_cast<const char *>(ab.Data());
      len_ = ab.ByteLength();
    } else if (v.IsString()) {
      size_t n = 0;
      napi_get_value_string_utf8(env, v, nullptr, 0, &n);
      scratch.resize(n + 1);
      napi_get_value_string_utf8(env, v, &scratch[0], n + 1, &n);
      ptr_ = scratch.data();
      len_ = n;
    } else if (!v.IsUndefined() && !v.IsNull()) {
      ok_ = false;
    }
  }
  const char *ptr() const { return ptr_; }
  size_t len() const { return len_; }
  bool ok() const { return ok_; }

 private:
  const char *ptr_ = "";
  size_t len_ = 0;
  bool ok_ = true;
};

class Mgr : public Napi::ObjectWrap<Mgr> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "NativeMgr",
        {
            InstanceMethod<&Mgr::Listen>("listen"),
            InstanceMethod<&Mgr::Reply>("reply"),
            InstanceMethod<&Mgr::Send>("send"),
            InstanceMethod<&Mgr::WsUpgrade>("wsUpgrade"),
            InstanceMethod<&Mgr::WsSend>("wsSend"),
            InstanceMethod<&Mgr::Close>("close"),
            InstanceMethod<&Mgr::Drain>("drain"),
            InstanceMethod<&Mgr::HmField>("hmField"),
            InstanceMethod<&Mgr::HmBody>("hmBody"),
            InstanceMethod<&Mgr::HmText>("hmText"),
            InstanceMethod<&Mgr::HmHeader>("hmHeader"),
            InstanceMethod<&Mgr::HmHeaders>("hmHeaders"),
            InstanceMethod<&Mgr::HmQueryVar>("hmQueryVar"),
            InstanceMethod<&Mgr::WsData>("wsData"),
            InstanceMethod<&Mgr::WsText>("wsText"),
            InstanceMethod<&Mgr::WsOp>("wsOp"),
            InstanceMethod<&Mgr::Addr>("addr"),
            InstanceMethod<&Mgr::Free>("free"),
        });
  }

  // new NativeMgr(dispatch, mode)  mode: "uv" | "thread"
  explicit Mgr(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Mgr>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) {
      Napi::TypeError::New(env, "NativeMgr(dispatch, mode): dispatch must be a function")
          .ThrowAsJavaScriptException();
      return;
    }
    std::string mode = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "uv";
    dispatch_ = Napi::Persistent(info[0].As<Napi::Function>());
    mg_mgr_init(&mgr_);
    if (mgr_.epoll_fd < 0) {
      Napi::Error::New(env, "epoll_create1 failed").ThrowAsJavaScriptException();
      return;
    }
    inited_ = true;
    if (mode == "thread") {
      StartThread(env);
    } else {
      uv_loop_t *loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
        Napi::Error::New(env, "no libuv loop in this runtime: use mode \"thread\"")
            .ThrowAsJavaScriptException();
        return;
      }
      async_ = std::make_unique<Napi::AsyncContext>(env, "wasmgoose.native");
      poll_ = new uv_poll_t;
      timer_ = new uv_timer_t;
      uv_poll_init(loop, poll_, mgr_.epoll_fd);
      uv_timer_init(loop, timer_);
      poll_->data = this;
      timer_->data = this;
      uv_poll_start(poll_, UV_READABLE, OnUvPoll);
    }
  }

  ~Mgr() override { Shutdown(); }

 private:
  // ---- the event loop ---------------------------------------------------------
  static void OnUvPoll(uv_poll_t *h, int, int) { static_cast<Mgr *>(h->data)->UvStep(); }
  static void OnUvTimer(uv_timer_t *h) { static_cast<Mgr *>(h->data)->UvStep(); }

  void UvStep() {
    if (!inited_) return;
    Napi::Env env = Env();
    Napi::HandleScope hs(env);
    Napi::CallbackScope cs(env, *async_);  // microtasks run when it closes
    Step();
  }

  // One iteration: everything ready is handled, then output is flushed.
  void Step() {
    if (!inited_) return;
    depth_++;
    mg_mgr_poll(&mgr_, 0);
    depth_--;
    Rearm();
  }

  // Milliseconds until the earliest core timer, -1 for none.
  int NextTimer() {
    uint64_t now = mg_millis();
    int64_t best = -1;
    for (struct mg_timer *t = mgr_.timers; t != nullptr; t = t->next) {
      int64_t left = t->expire > now ? (int64_t) (t->expire - now) : 0;
      if (best < 0 || left < best) best = left;
    }
    return best > INT32_MAX ? INT32_MAX : (int) best;
  }

  void Rearm() {
    if (!inited_) return;
    int ms = NextTimer();
    if (timer_ != nullptr) {
      if (ms < 0) {
        uv_timer_stop(timer_);
      } else {
        uv_timer_start(timer_, OnUvTimer, (uint64_t) ms, 0);
      }
    } else if (thread_.joinable()) {
      std::lock_guard<std::mutex> lock(mu_);
      timeout_ = ms;
      armed_ = true;
      if (polling_) Wake();  // poll again with the new timeout
      cv_.notify_one();
    }
  }

  // After an API call made outside an event (a timer, a promise): flush now.
  void Settle() {
    if (depth_ == 0 && inited_) {
      mg_io_finish(&mgr_);
      Rearm();
    }
  }

  void StartThread(Napi::Env env) {
    wake_fd_ = eventfd(0, EFD_CLOEXEC);
    napi_value name;
    napi_create_string_utf8(env, "wasmgoose.native", NAPI_AUTO_LENGTH, &name);
    napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr,
                                    this, CallStep, &tsfn_);
    armed_ = true;
    timeout_ = -1;
    thread_ = std::thread([this] { ThreadMain(); });
  }

  static void CallStep(napi_env env, napi_value, void *context, void *) {
    if (env == nullptr) return;  // the runtime is shutting down
    Mgr *m = static_cast<Mgr *>(context);
    Napi::HandleScope hs(m->Env());
    m->Step();
  }

  void Wake() {
    uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof(one)) < 0) {
      // an eventfd write fails only when its counter is saturated: already woken
    }
  }

  void ThreadMain() {
    for (;;) {
      int ms;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return armed_ || stopping_; });
        if (stopping_) return;
        armed_ = false;
        polling_ = true;
        ms = timeout_;
      }
      struct pollfd fds[2] = {{mgr_.epoll_fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      int n = poll(fds, 2, ms);
      {
        std::lock_guard<std::mutex> lock(mu_);
        polling_ = false;
        if (stopping_) return;
      }
      if (n < 0) {  // EINTR: poll again
        std::lock_guard<std::mutex> lock(mu_);
        armed_ = true;
        continue;
      }
      if (fds[1].revents != 0) {
        uint64_t v;
        if (read(wake_fd_, &v, sizeof(v)) < 0) {
          // nothing to clear
        }
        if (fds[0].revents == 0) continue;  // re-armed with a new timeout
      }
      // Readable or a timer is due: one step on the JavaScript thread, which
      // re-arms this thread when it is done.
      if (napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking) != napi_ok) return;
    }
  }

  void Shutdown() {
    if (!inited_) return;
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
        Wake();
        cv_.notify_one();
      }
      thread_.join();
      napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
      close(wake_fd_);
    }
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t *>(poll_),
               [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
      poll_ = nullptr;
    }
    if (timer_ != nullptr) {
      uv_timer_stop(timer_);
      uv_close(reinterpret_cast<uv_handle_t *>(timer_),
               [](uv_handle_t *h) { delete reinterpret_cast<uv_timer_t *>(h); });
      timer_ = nullptr;
    }
    freeing_ = true;  // MG_EV_CLOSE during mg_mgr_free is not sent to JavaScript
    mg_mgr_free(&mgr_);
    inited_ = false;
    conns_.clear();
  }

  // ---- events -----------------------------------------------------------------
  static void OnEvent(struct mg_connection *c, int ev, void *ev_data) {
    Listener *l = static_cast<Listener *>(c->fn_data);
    if (l == nullptr) return;
    l->mgr->Event(l, c, ev, ev_data);
  }

  void Event(Listener *l, struct mg_connection *c, int ev, void *ev_data) {
    if (ev == MG_EV_OPEN) conns_[c->id] = c;
    if (ev < 32 && (l->mask & (1u << ev)) != 0 && !freeing_) {
      struct mg_connection *pc = cur_c_;
      struct mg_http_message *phm = cur_hm_;
      struct mg_ws_message *pws = cur_ws_;
      cur_c_ = c;
      cur_hm_ = ev == MG_EV_HTTP_MSG || ev == MG_EV_HTTP_HDRS || ev == MG_EV_WS_OPEN
                    ? static_cast<struct mg_http_message *>(ev_data)
                    : nullptr;
      cur_ws_ = ev == MG_EV_WS_MSG || ev == MG_EV_WS_CTL
                    ? static_cast<struct mg_ws_message *>(ev_data)
                    : nullptr;
      Napi::Env env = Env();
      Napi::HandleScope hs(env);
      napi_value argv[4];
      napi_create_double(env, (double) c->id, &argv[0]);
      napi_create_int32(env, ev, &argv[1]);
      napi_create_uint32(env, l->index, &argv[2]);
      if (ev == MG_EV_ERROR && ev_data != nullptr) {
        napi_create_string_utf8(env, static_cast<const char *>(ev_data), NAPI_AUTO_LENGTH,
                                &argv[3]);
      } else {
        napi_get_undefined(env, &argv[3]);
      }
      napi_value result;
      napi_status st = napi_call_function(env, Value(), dispatch_.Value(), 4, argv, &result);
      if (st != napi_ok) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (pending) {
          napi_value exc;
          napi_get_and_clear_last_exception(env, &exc);
        }
        fprintf(stderr, "wasmgoose native: event handler threw (event %d)\n", ev);
      }
      cur_c_ = pc;
      cur_hm_ = phm;
      cur_ws_ = pws;
    }
    if (ev == MG_EV_CLOSE) conns_.erase(c->id);
  }

  // ---- helpers ----------------------------------------------------------------
  struct mg_connection *Conn(const Napi::Value &v) {
    unsigned long id = (unsigned long) v.As<Napi::Number>().Int64Value();
    if (cur_c_ != nullptr && cur_c_->id == id) return cur_c_;
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second;
  }

  Napi::Value Closed(Napi::Env env) {
    Napi::Error::New(env, "connection is closed").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  static Napi::Value Str(Napi::Env env, struct mg_str s) {
    return Napi::String::New(env, s.buf == nullptr ? "" : s.buf, s.len);
  }

  bool NeedHm(Napi::Env env) {
    if (cur_hm_ != nullptr) return true;
    Napi::Error::New(env, "the HTTP message is only valid during its event")
        .ThrowAsJavaScriptException();
    return false;
  }

  bool NeedWs(Napi::Env env) {
    if (cur_ws_ != nullptr) return true;
    Napi::Error::New(env, "the WebSocket message is only valid during its event")
        .ThrowAsJavaScriptException();
    return false;
  }

  // ---- API ----------------------------------------------------------------------
  // listen(url, index, mask) → [connId, port]
  Napi::Value Listen(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!inited_) return Closed(env);
    std::string url = info[0].As<Napi::String>().Utf8Value();
    auto l = std::make_unique<Listener>();
    l->mgr = this;
    l->index = info[1].As<Napi::Number>().Uint32Value();
    l->mask = info[2].As<Napi::Number>().Uint32Value();
    bool http = url.rfind("http://", 0) == 0 || url.rfind("ws://", 0) == 0;
    struct mg_connection *c = http ? mg_http_listen(&mgr_, url.c_str(), OnEvent, l.get())
                                   : mg_listen(&mgr_, url.c_str(), OnEvent, l.get());
    if (c == nullptr) {
      Napi::Error::New(env, "cannot listen on " + url).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    conns_[c->id] = c;
    listeners_.push_back(std::move(l));
    Napi::Array r = Napi::Array::New(env, 2);
    r.Set(0u, Napi::Number::New(env, (double) c->id));
    r.Set(1u, Napi::Number::New(env, mg_ntohs(c->loc.port)));
    Settle();
    return r;
  }

  // reply(id, status, headerBlock, body)
  Napi::Value Reply(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    struct mg_connection *c = Conn(info[0]);
    if (c == nullptr) return Closed(env);
    int status = info[1].As<Napi::Number>().Int32Value();
    Bytes h(env, info[2], hscratch_);
    Bytes b(env, info[3], bscratch_);
    mg_http_reply_raw(c, status, h.ptr(), h.len(), b.ptr(), b.len());
    Settle();
    return env.Undefined();
  }

  Napi::Value Send(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    struct mg_connection *c = Conn(info[0]);
    if (c == nullptr) return Napi::Boolean::New(env, false);
    Bytes b(env, info[1], bscratch_);
    bool ok = mg_send(c, b.ptr(), b.len());
    Settle();
    return Napi::Boolean::New(env, ok);
  }

  // wsUpgrade(id, headerBlock): during MG_EV_HTTP_MSG of that connection
  Napi::Value WsUpgrade(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    struct mg_connection *c = Conn(info[0]);
    if (c == nullptr) return Closed(env);
    if (!NeedHm(env)) return env.Undefined();
    if (c != cur_c_) {
      Napi::Error::New(env, "wsUpgrade(): not this connection's request")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Bytes h(env, info[1], hscratch_);
    if (h.len() > 0) {
      mg_ws_upgrade(c, cur_hm_, "%.*s", (int) h.len(), h.ptr());
    } else {
      mg_ws_upgrade(c, cur_hm_, NULL);
    }
    Settle();
    return env.Undefined();
  }

  Napi::Value WsSend(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    struct mg_connection *c = Conn(info[0]);
    if (c == nullptr) return Napi::Number::New(env, 0);
    Bytes b(env, info[1], bscratch_);
    int op = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value()
                                : (info[1].IsString() ? WEBSOCKET_OP_TEXT : WEBSOCKET_OP_BINARY);
    size_t n = mg_ws_send(c, b.ptr(), b.len(), op);
    Settle();
    return Napi::Number::New(env, (double) n);
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    struct mg_connection *c = Conn(info[0]);
    if (c != nullptr) {
      c->is_closing = 1;
      mg_io_check(c);
      Settle();
    }
    return info.Env().Undefined();
  }

  Napi::Value Drain(const Napi::CallbackInfo &info) {
    struct mg_connection *c = Conn(info[0]);
    if (c != nullptr) {
      c->is_draining = 1;
      mg_io_check(c);
      Settle();
    }
    return info.Env().Undefined();
  }

  // hmField(i): 0 method, 1 uri, 2 query, 3 proto, 4 head, 5 message
  Napi::Value HmField(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedHm(env)) return env.Undefined();
    switch (info[0].As<Napi::Number>().Int32Value()) {
      case 0: return Str(env, cur_hm_->method);
      case 1: return Str(env, cur_hm_->uri);
      case 2: return Str(env, cur_hm_->query);
      case 3: return Str(env, cur_hm_->proto);
      case 4: return Str(env, cur_hm_->head);
      default: return Str(env, cur_hm_->message);
    }
  }

  Napi::Value HmBody(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedHm(env)) return env.Undefined();
    return Napi::Buffer<char>::Copy(env, cur_hm_->body.buf, cur_hm_->body.len);
  }

  Napi::Value HmText(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedHm(env)) return env.Undefined();
    return Str(env, cur_hm_->body);
  }

  Napi::Value HmHeader(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedHm(env)) return env.Undefined();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    struct mg_str *v = mg_http_get_header(cur_hm_, name.c_str());
    return v == nullptr ? env.Undefined() : Str(env, *v);
  }

  Napi::Value HmHeaders(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedHm(env)) return env.Undefined();
    Napi::Array r = Napi::Array::New(env);
    uint32_t n = 0;
    for (size_t i = 0; i < MG_MAX_HTTP_HEADERS && cur_hm_->headers[i].name.len > 0; i++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Str(env, cur_hm_->headers[i].name));
      pair.Set(1u, Str(env, cur_hm_->headers[i].value));
      r.Set(n++, pair);
    }
    return r;
  }

  // hmQueryVar(name): the decoded value, or undefined when absent
  Napi::Value HmQueryVar(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedHm(env)) return env.Undefined();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    struct mg_str v = mg_http_var(cur_hm_->query, mg_str_n(name.data(), name.size()));
    if (v.buf == nullptr) return env.Undefined();
    std::string out(v.len + 1, '\0');
    int n = mg_url_decode(v.buf, v.len, &out[0], out.size(), 1);
    if (n < 0) return env.Undefined();
    return Napi::String::New(env, out.data(), (size_t) n);
  }

  Napi::Value WsData(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedWs(env)) return env.Undefined();
    return Napi::Buffer<char>::Copy(env, cur_ws_->data.buf, cur_ws_->data.len);
  }

  Napi::Value WsText(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedWs(env)) return env.Undefined();
    return Str(env, cur_ws_->data);
  }

  Napi::Value WsOp(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!NeedWs(env)) return env.Undefined();
    return Napi::Number::New(env, cur_ws_->flags & 15);
  }

  // addr(id, remote) → "ip:port"
  Napi::Value Addr(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    struct mg_connection *c = Conn(info[0]);
    if (c == nullptr) return Napi::String::New(env, "");
    char buf[64];
    mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip_port,
                info[1].ToBoolean() ? &c->rem : &c->loc);
    return Napi::String::New(env, buf);
  }

  Napi::Value Free(const Napi::CallbackInfo &info) {
    Shutdown();
    return info.Env().Undefined();
  }

  struct mg_mgr mgr_;
  bool inited_ = false;
  bool freeing_ = false;
  int depth_ = 0;
  Napi::FunctionReference dispatch_;
  std::unique_ptr<Napi::AsyncContext> async_;
  uv_poll_t *poll_ = nullptr;
  uv_timer_t *timer_ = nullptr;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<unsigned long, struct mg_connection *> conns_;
  struct mg_connection *cur_c_ = nullptr;
  struct mg_http_message *cur_hm_ = nullptr;
  struct mg_ws_message *cur_ws_ = nullptr;
  std::string hscratch_, bscratch_;
  // thread mode
  std::thread thread_;
  napi_threadsafe_function tsfn_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false, stopping_ = false, polling_ = false;
  int timeout_ = -1;
  int wake_fd_ = -1;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeMgr", Mgr::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(wasmgoose_native, Init)
