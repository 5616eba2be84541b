// Types of api.mjs for the TypeScript servers.
/** One request → [status, JSON text]. */
export function api(
  method: string,
  path: string,
  query: string,
  contentType: string | undefined,
  body: () => Uint8Array,
): [number, string];
/** The hello JSON text. */
export const HELLO: string;
