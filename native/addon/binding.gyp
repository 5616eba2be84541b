# The Node-API addon: the same vendor/mongoose core with its POSIX epoll driver,
# driven from Node's event loop (libuv uv_poll_t on the epoll descriptor).
# Built by `make addon` (node-gyp from node_modules, headers from node-gyp's cache).
{
  "targets": [
    {
      "target_name": "wasmgoose_native",
      "sources": [
        "addon.cc",
        "<!@(ls -1 ../../vendor/mongoose/src/*.c)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../../vendor/mongoose"
      ],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "cflags_c": ["-std=c11", "-D_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions"],
      "cflags!": ["-fno-exceptions"],
      "xcode_settings": {"OTHER_CFLAGS": ["-O2"]}
    }
  ]
}
