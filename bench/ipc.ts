/**
 * The bench's processes: each part under measurement (upstream, pass-through, proxy, handler)
 * runs in a process of its own, so its CPU and RSS are its own, and answers commands over the
 * IPC channel `fork` gives it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Commands = Record<string, (arg: unknown) => unknown>;

/** In a child: answer the parent's commands; `ready` is sent once, with what the parent needs. */
export function serveCommands(ready: unknown, commands: Commands): void {
  process.on('message', async (m: { id: number; cmd: string; arg: unknown }) => {
    try {
      const value = await commands[m.cmd]!(m.arg);
      process.send!({ id: m.id, value });
    } catch (e) {
      process.send!({ id: m.id, error: e instanceof Error ? e.stack : String(e) });
    }
  });
  // The bench is gone (finished, failed or killed): so is this part of it.
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready });
}

/** What every child answers: its CPU time (µs) and resident set (bytes). */
export const usage = () => ({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
export type Usage = ReturnType<typeof usage>;
export const cpuMs = (a: Usage, b: Usage) => (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000;

export interface Child<R> {
  readonly ready: R;
  call<T>(cmd: string, arg?: unknown): Promise<T>;
  usage(): Promise<Usage>;
  stop(): void;
}

/** Fork `bench/<file>` (TypeScript, through tsx) with `arg` as JSON; resolves once it is ready. */
export function startChild<R>(file: string, arg: unknown): Promise<Child<R>> {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const cp: ChildProcess = fork(path, [JSON.stringify(arg)], {
    // BENCH_NODE_FLAGS: e.g. `--cpu-prof --cpu-prof-dir=bench/results/profiles` to profile every part.
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])],
    // The proxy writes an access line per request (its real cost); nobody reads them here.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let seq = 0;
  const waiting = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  return new Promise((resolve, reject) => {
    cp.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
    cp.on('message', (m: { ready?: R; id?: number; value?: unknown; error?: string }) => {
      if (m.id === undefined) {
        const call = <T>(cmd: string, a?: unknown) =>
          new Promise<T>((ok, fail) => {
            const id = ++seq;
            waiting.set(id, { ok: ok as (v: unknown) => void, fail });
            cp.send({ id, cmd, arg: a });
          });
        resolve({
          ready: m.ready as R,
          call,
          usage: () => call<Usage>('usage'),
          // Disconnecting lets the child exit by itself (and write its --cpu-prof profile).
          stop: () => cp.disconnect(),
        });
        return;
      }
      const w = waiting.get(m.id)!;
      waiting.delete(m.id);
      if (m.error) w.fail(new Error(m.error));
      else w.ok(m.value);
    });
  });
}

/** The child's argument (the JSON its parent passed). */
export function childArg<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}
