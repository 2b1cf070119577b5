/**
 * Open streams per subject on this instance (pure, in memory): a client that opens stream after
 * stream (standalone `GET` SSE streams, the legacy `/sse`) and abandons them cannot hold more than
 * `max` at a time here. On standard Lambda each stream is an invocation of its own, so the bound
 * that counts there is the function's reserved concurrency; this one protects hosts that serve
 * many requests in one process (the local runner, containers, multi-concurrency runtimes).
 */
export interface StreamSlots {
  /** A slot for `key`, with the function that gives it back (idempotent); undefined when full. */
  acquire(key: string): (() => void) | undefined;
  /** Streams open for `key` now. */
  open(key: string): number;
}

export function createStreamSlots(max: number): StreamSlots {
  const open = new Map<string, number>();
  return {
    acquire(key) {
      const n = open.get(key) ?? 0;
      if (max > 0 && n >= max) return undefined;
      open.set(key, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(key) ?? 1) - 1;
        if (left > 0) open.set(key, left);
        else open.delete(key);
      };
    },
    open: (key) => open.get(key) ?? 0,
  };
}
