#!/usr/bin/env bash
# The npm package as a user gets it: `npm pack` holds exactly dist/ (ESM + .d.ts),
# README, LICENSE and package.json; the tarball installs into an empty project
# without the network (no runtime dependencies); there the API serves a request
# (import "wasmgoose"), TypeScript type-checks against its .d.ts, and the
# `wasmgoose` bin answers curl on port 0 — on Node.js and on Bun (which must
# really be Bun: the API check reports the runtime it ran on).
# Usage: tests/pack_test.sh   (after `make dist`; run from the repository root)
set -u
root=$(pwd)
BUN=${BUN:-$root/node_modules/@oven/bun-linux-x64/bin/bun}
TSC=$root/node_modules/.bin/tsc
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # name, expected substring, actual
  if [[ "$3" == *$2* ]]; then ok; else bad "$1: expected [$2] in [$3]"; fi
}

# ---- the tarball ---------------------------------------------------------------
# --ignore-scripts: dist/ is what `make dist` built (no prepack rebuild here)
json=$(npm pack --ignore-scripts --json --pack-destination "$tmp" 2>/dev/null) ||
  { echo "npm pack failed"; exit 1; }
tgz=$tmp/$(node -e 'process.stdout.write(JSON.parse(process.argv[1])[0].filename)' "$json")
files=$(tar -tzf "$tgz" | sed 's|^package/||' | sort)
for f in package.json README.md LICENSE dist/mod.js dist/mod.d.ts dist/src/bin.js \
  dist/src/manager.js dist/src/manager.d.ts dist/wasm/embed.js; do
  grep -qx "$f" <<<"$files" && ok || bad "tarball lacks $f"
done
# Nothing else: no tests, benchmarks, TypeScript sources, C, .wasm or the addon loader
extra=$(grep -vxE 'package\.json|README\.md|LICENSE|dist/(mod|src/([a-z_]+/)?[a-z_]+|wasm/embed)\.(js|d\.ts)' <<<"$files")
[ -z "$extra" ] && ok || bad "unexpected files in the tarball: $extra"
grep -q 'native' <<<"$files" && bad "the native-addon loader is packed" || ok
echo "tarball: $(basename "$tgz"), $(wc -l <<<"$files") files, $(stat -c %s "$tgz") bytes"

# ---- install into an empty project, offline -------------------------------------
app=$tmp/app
mkdir -p "$app"
echo '{ "name": "app", "private": true, "type": "module" }' >"$app/package.json"
(cd "$app" && npm install --offline --no-audit --no-fund --loglevel=error "$tgz") ||
  { echo "npm install of the tarball failed"; exit 1; }
check "installed alone (no dependencies)" "wasmgoose" "$(ls "$app/node_modules" | grep -v '^\.' | tr '\n' ' ')"
[ "$(ls "$app/node_modules" | grep -vc '^\.')" = 1 ] && ok || bad "node_modules holds more than wasmgoose"
[ -x "$app/node_modules/.bin/wasmgoose" ] && ok || bad "no node_modules/.bin/wasmgoose"

# The API: a Manager on port 0 answers fetch, then closes
cat >"$app/serve.mjs" <<'EOF'
import { Manager, MG_EV_HTTP_MSG } from "wasmgoose";
const mgr = new Manager();
const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, hm) => {
  if (ev === MG_EV_HTTP_MSG) c.replyJson({ uri: hm.uri, runtime: typeof Bun === "undefined" ? "node" : "bun" });
});
const res = await fetch(`http://${lsn.localAddr}/from-the-package`);
console.log(res.status, await res.text());
mgr.close();
await mgr.run();
EOF
# Types: a TypeScript consumer compiles against the installed .d.ts
cat >"$app/typed.ts" <<'EOF'
import { type HttpMessage, Manager, MG_EV_HTTP_MSG } from "wasmgoose";
const mgr: Manager = new Manager();
mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) c.replyJson({ uri: (data as HttpMessage).uri });
});
const n: number = mgr.connections.length;
console.log(n);
EOF
out=$("$TSC" --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 \
  --skipLibCheck --types node --typeRoots "$root/node_modules/@types" "$app/typed.ts" 2>&1)
[ $? = 0 ] && ok || bad "tsc against the package's .d.ts: $out"

# The bin on port 0: waits for "listening on URL", then curl; SIGTERM ends it
serve_bin() { # name, command...
  local name=$1 log=$tmp/$1.log url=""
  shift
  (cd "$app" && exec setsid "$@" --listen http://127.0.0.1:0) >"$log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 150); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$log" | sed 's/listening on //')
    [ -n "$url" ] && break
    sleep 0.1
  done
  check "$name: listening line" "http://127.0.0.1:" "$url"
  check "$name: hello" '{"message":"Hello, World!"}' "$(curl -s --max-time 5 "$url/")"
  check "$name: 404" '404' "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url/nope")"
  if [ -n "${EXPECT_EXE:-}" ]; then # every process of the group runs EXPECT_EXE
    local exes
    exes=$(for p in $(pgrep -g "$pid"); do readlink "/proc/$p/exe"; done | sort -u | tr '\n' ' ')
    check "$name: runs on $(basename "$EXPECT_EXE")" "$EXPECT_EXE " "$exes"
    [ "$exes" = "$EXPECT_EXE " ] || bad "$name: processes run [$exes]"
  fi
  kill -TERM -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ -n "$url" ] || cat "$log"
}

for rt in node bun; do
  if [ "$rt" = bun ]; then run=("$BUN"); else run=(node); fi
  check "$rt: import('wasmgoose') serves" "200 {\"uri\":\"/from-the-package\",\"runtime\":\"$rt\"}" \
    "$(cd "$app" && timeout 30 "${run[@]}" serve.mjs 2>&1)"
  if [ "$rt" = bun ]; then
    # `bun run` finds the package's bin in node_modules/.bin (never the registry);
    # --bun: run it on Bun despite its node shebang
    EXPECT_EXE=$(readlink -f "$BUN") serve_bin "bun run wasmgoose" "$BUN" run --bun wasmgoose
  else
    serve_bin "node bin" node_modules/.bin/wasmgoose
    serve_bin "npx wasmgoose" npx --no-install wasmgoose
  fi
done

echo "pack: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
