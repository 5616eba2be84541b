#!/usr/bin/env bash
# The JSR package as a user gets it: `deno publish --dry-run` (no slow types,
# without --allow-slow-types) lists the files; exactly those are copied into an
# empty folder (no node_modules, no package.json), where Deno serves with no
# permission but the network (the WASM is embedded: no read permission), both
# through the API and the CLI (tests/server_test.sh).
# Usage: tests/jsr_test.sh   (run from the repository root)
set -u
root=$(pwd)
DENO=${DENO:-$root/node_modules/@deno/linux-x64-glibc/deno}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# --allow-dirty: `make test` may run on a tree with uncommitted changes
out=$(NO_COLOR=1 "$DENO" publish --dry-run --allow-dirty 2>&1)
if [ $? = 0 ]; then ok; else
  bad "deno publish --dry-run"
  echo "$out"
  exit 1
fi
# No warning, except the one dynamic import that is dynamic on purpose: the CLI's
# --app MODULE (src/app.ts) imports the user's module by URL at run time.
warnings=$(grep -A1 "^warning" <<<"$out" | grep -v "^--$" | paste - - |
  grep -v "^warning\[unanalyzable-dynamic-import\].*src/app\.ts:" || true)
[ -z "$warnings" ] && ok || bad "publish warnings: $warnings"
files=$(sed -n "s|^ *file://$root/\(.*\) ([0-9.]*[KMG]\{0,1\}B)\$|\1|p" <<<"$out" | sort)
for f in deno.json mod.ts README.md LICENSE wasm/embed.ts src/manager.ts src/host/deno.ts; do
  grep -qx "$f" <<<"$files" && ok || bad "the package lacks $f"
done
extra=$(grep -vxE 'deno\.json|mod\.ts|README\.md|LICENSE|wasm/embed\.ts|src/([a-z_]+/)?[a-z_]+\.ts' <<<"$files")
[ -z "$extra" ] && ok || bad "unexpected files in the package: $extra"
grep -qE '^src/native\.ts$|_test\.ts$' <<<"$files" && bad "tests or the addon loader are published" || ok
echo "jsr: $(wc -l <<<"$files") files"

# Exactly the published files, nothing around them
pkg=$tmp/pkg
while read -r f; do
  mkdir -p "$pkg/$(dirname "$f")"
  cp "$root/$f" "$pkg/$f"
done <<<"$files"

# The API with --allow-net=127.0.0.1 only: listen on port 0, fetch, close
cat >"$tmp/use.ts" <<EOF
import { type HttpMessage, Manager, MG_EV_HTTP_MSG } from "$pkg/mod.ts";
const mgr = new Manager();
const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) c.replyJson({ uri: (data as HttpMessage).uri });
});
const res = await fetch(\`http://\${lsn.localAddr}/jsr\`);
console.log(res.status, await res.text());
mgr.close();
await mgr.run();
EOF
got=$(cd "$tmp" && timeout 60 "$DENO" run --allow-net=127.0.0.1 --no-prompt --no-config use.ts 2>&1)
[ "$got" = '200 {"uri":"/jsr"}' ] && ok || bad "API with net permission only: [$got]"
# Type-checks on its own (Deno's built-in Node types, no @types/node)
got=$(cd "$pkg" && "$DENO" check mod.ts 2>&1) && ok || bad "deno check of the package: $got"

echo "jsr: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || exit 1
# The CLI from the package folder, network permission only
cd "$pkg" && bash "$root/tests/server_test.sh" "jsr cli" "$DENO" run --allow-net=127.0.0.1 \
  --no-prompt mod.ts --listen http://127.0.0.1:%PORT%
