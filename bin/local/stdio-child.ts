/**
 * One stdio MCP server as an MCP SDK `Transport`: newline-delimited JSON-RPC on the child's
 * stdin/stdout (the SDK's own framing, `ReadBuffer` / `serializeMessage`), stderr passed to the
 * runner's stderr.
 *
 * The command line runs through the shell, as the original runs `stdio.user_command`, in its own
 * process group (POSIX), so that stopping it stops what it started too (`npx` starts node, which
 * starts the server): `close()` ends stdin, sends the group SIGTERM, and SIGKILL after
 * `STOP_GRACE_MS`. Every group still running when the runner exits is killed on `exit`.
 * The SDK's StdioClientTransport is not used because it signals only its direct child.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { StdioServerConfig } from '../../functions/shared/config/index.ts';

export const STOP_GRACE_MS = 2000;
const POSIX = process.platform !== 'win32';

/** Process groups (POSIX) or pids (Windows) of the children running now. */
const running = new Set<number>();
process.on('exit', () => {
  for (const id of running) signal(id, 'SIGKILL');
});

function signal(id: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(POSIX ? -id : id, sig);
    return true;
  } catch {
    return false; // ESRCH: nothing left in the group
  }
}

/** POSIX shell quoting of one word (`stdio.args`); Windows: double quotes. */
export function quoteArg(a: string): string {
  if (!POSIX) return `"${a.replace(/"/g, '""')}"`;
  return /^[A-Za-z0-9_\-./:=@%+,]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The command line of `cfg`, with its `args` quoted. */
export function commandLine(cfg: StdioServerConfig): string {
  return [cfg.command, ...cfg.args.map(quoteArg)].join(' ');
}

/** `NAME=value` entries on top of the runner's environment (as the original does). */
function environment(entries: readonly string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const e of entries) {
    const i = e.indexOf('=');
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  return env;
}

export class StdioChild implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private child?: ChildProcess;
  private readonly buffer = new ReadBuffer();
  private stopping?: Promise<void>;

  constructor(private readonly cfg: StdioServerConfig) {}

  /** The process group of the child (its pid), once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const shell = POSIX ? ['/bin/sh', '-c'] : [process.env.ComSpec ?? 'cmd.exe', '/d', '/s', '/c'];
    const child = spawn(shell[0]!, [...shell.slice(1), commandLine(this.cfg)], {
      cwd: this.cfg.workDir,
      env: environment(this.cfg.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: POSIX,
      windowsHide: true,
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    running.add(child.pid!);
    child.stdout!.on('data', (chunk: Buffer) => this.read(chunk));
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.stdin!.on('error', () => {}); // EPIPE once it exited: the exit handler reports it
    child.once('exit', () => {
      running.delete(child.pid!);
      this.onclose?.();
    });
  }

  private read(chunk: Buffer): void {
    this.buffer.append(chunk);
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (e) {
        this.onerror?.(new Error(`stdio server wrote a line that is not JSON-RPC: ${(e as Error).message}`));
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) throw new Error('stdio server is not running');
    stdin.write(serializeMessage(message));
  }

  /** Stop the child and everything it started (idempotent). */
  close(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    child.stdin?.end();
    if (!signal(child.pid, 'SIGTERM')) return;
    const end = Date.now() + STOP_GRACE_MS;
    while (Date.now() < end && signal(child.pid, 0)) await new Promise((r) => setTimeout(r, 50));
    signal(child.pid, 'SIGKILL');
    running.delete(child.pid);
  }
}
