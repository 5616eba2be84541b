/**
 * The body of `GET /big/N` in tests/send_path_child.ts: the 8-digit hex
 * numbers 0, 1, 2, ... back to back, cut at N bytes, so that a lost,
 * repeated or reordered piece shows where it happened. Not a test itself.
 *
 * @module
 */

/** `n` bytes of the counting pattern. */
export function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  const hex = "0123456789abcdef";
  for (let i = 0; i < n; i++) {
    const block = Math.floor(i / 8), digit = 7 - (i % 8);
    out[i] = hex.charCodeAt((block >>> (digit * 4)) & 15);
  }
  return out;
}
