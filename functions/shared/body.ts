/**
 * The one bounded reader of request bodies (both functions): never more than `limit` bytes are
 * held, whatever the sender declared. A `Content-Length` over the limit is refused before any
 * byte is read; a body without one (chunked, or a lie) is cut off at the first byte past it.
 */

/** The body, or undefined when it is larger than `limit` bytes. */
export async function readBounded(req: Request, limit: number): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) return undefined;
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
