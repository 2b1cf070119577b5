/** Runs the `npm start` CLI (bin/local.ts) as a child process and reads what it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliRun {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number>;
  /** Resolves once `text` has been printed; rejects (with the output) after `ms` or on exit. */
  waitFor(text: string, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `env` adds to (or replaces) the runner's environment, e.g. `{ LOG_LEVEL: 'info' }`. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts', ...args], {
    cwd: join(import.meta.dirname, '../..'),
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(text, ms = 30_000) {
      const end = Date.now() + ms;
      while (!out.includes(text)) {
        if (Date.now() > end || child.exitCode !== null) {
          throw new Error(`timed out waiting for "${text}"; output:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      await exited;
    },
  };
}
