/**
 * The one bounded reader of bodies (both functions: request bodies; the proxy: an upstream
 * listing it must filter): never more than `limit` bytes are held, whatever the sender declared.
 * A `Content-Length` over the limit is refused before any byte is read; a body without one
 * (chunked, or a lie) is cut off at the first byte past it.
 */

/** The body, or undefined when it is larger than `limit` bytes. */
export async function readBounded(req: Request, limit: number): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) return undefined;
  if (req.body === null) return new Uint8Array(0);
  return collectBounded(chunksOf(req.body), limit);
}

/** A Web stream's chunks; the stream is cancelled when the reader stops early. */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel();
  }
}

/**
 * Chunks joined, or undefined at the first byte past `limit` (the source is then stopped: a Web
 * stream cancelled, a Node stream destroyed, by the end of iteration).
 */
export async function collectBounded(
  chunks: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const c of chunks) {
    size += c.byteLength;
    if (size > limit) return undefined;
    parts.push(c);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
