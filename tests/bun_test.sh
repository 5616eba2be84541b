#!/usr/bin/env bash
# The TypeScript tests (node:test + node:assert/strict) on Bun: `bun test` runs
# them as they are, one process per file so that a file's result is its own.
# bun test's default 5 s per-test timeout is lifted (node:test has none).
# Tests that cannot work on Bun skip themselves with the reason.
# Usage: tests/bun_test.sh [tests/x_test.ts ...]   (default: every tests/*_test.ts)
set -u
BUN=${BUN:-node_modules/@oven/bun-linux-x64/bin/bun}
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/*_test.ts)
failed=() total_pass=0 total_skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$BUN" --version | sed 's/^/bun /'
for f in "${files[@]}"; do
  start=$SECONDS
  timeout 600 "$BUN" test --timeout 300000 "./$f" >"$log" 2>&1
  rc=$?
  p=$(grep -oE '^ *[0-9]+ pass' "$log" | grep -oE '[0-9]+' || echo 0)
  s=$(grep -oE '^ *[0-9]+ skip' "$log" | grep -oE '[0-9]+' || echo 0)
  x=$(grep -oE '^ *[0-9]+ fail' "$log" | grep -oE '[0-9]+' || echo 0)
  total_pass=$((total_pass + p)) total_skip=$((total_skip + s))
  printf '%-28s %3d pass %2d skip %2d fail  %3ds\n' "$(basename "$f")" "$p" "$s" "$x" $((SECONDS - start))
  grep -E '^\(skip\)' "$log" | sed 's/^/    /'
  if [ $rc -ne 0 ] || [ "$x" != 0 ] || { [ "$p" = 0 ] && [ "$s" = 0 ]; }; then
    failed+=("$f")
    grep -E -B40 '^\(fail\)' "$log" | tail -80
    [ $rc -eq 124 ] && echo "    (timed out)"
  fi
done
echo "bun: ${#files[@]} files, $total_pass passed, $total_skip skipped, ${#failed[@]} files failed ${failed[*]}"
[ ${#failed[@]} -eq 0 ]
