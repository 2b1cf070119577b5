/**
 * mcp-remote (the stdio bridge Claude Desktop and other desktop clients use for remote servers),
 * run as a child process exactly as a desktop client runs it. `BROWSER` points at a no-op, so it
 * prints the authorization URL instead of opening a browser; the test hands that URL to Chromium.
 * JSON-RPC goes over its stdin/stdout like a desktop client's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const ENTRY = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');

export interface JsonRpcMessage {
  readonly jsonrpc: '2.0';
  readonly id?: number | string;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string };
}

export interface McpRemoteOptions {
  /** Where it keeps client registrations and tokens (one per test, like one user's machine). */
  readonly configDir: string;
  readonly transport?: 'http-only' | 'sse-only' | 'http-first';
  /** Its OAuth callback port. @default derived by mcp-remote from the server URL */
  readonly callbackPort?: number;
}

export class McpRemote {
  private err = '';
  private nextId = 1;
  private readonly waiting = new Map<number | string, (m: JsonRpcMessage) => void>();
  /** Notifications received, with the time they arrived. */
  readonly notifications: { message: JsonRpcMessage; at: number }[] = [];
  readonly exited: Promise<number>;

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (d) => {
      this.err += d;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.trim()) return;
      let m: JsonRpcMessage;
      try {
        m = JSON.parse(line) as JsonRpcMessage;
      } catch {
        this.err += `\n[non-JSON on stdout] ${line}`;
        return;
      }
      if (m.id !== undefined && !m.method) {
        this.waiting.get(m.id)?.(m);
        this.waiting.delete(m.id);
      } else this.notifications.push({ message: m, at: Date.now() });
    });
    this.exited = new Promise((r) => child.on('exit', (code) => r(code ?? -1)));
  }

  static start(serverUrl: string, o: McpRemoteOptions): McpRemote {
    const args = [ENTRY, serverUrl];
    if (o.callbackPort) args.push(String(o.callbackPort));
    if (o.transport) args.push('--transport', o.transport);
    const child = spawn(process.execPath, args, {
      env: {
        PATH: process.env.PATH,
        HOME: o.configDir,
        MCP_REMOTE_CONFIG_DIR: o.configDir,
        // Where `open` would launch a browser: a command that does nothing.
        BROWSER: 'true',
        DISPLAY: '',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new McpRemote(child);
  }

  stderr(): string {
    return this.err;
  }

  /** Resolves once mcp-remote printed `pattern` on stderr (its log), with the match. */
  async waitForLog(pattern: RegExp, ms = 20_000): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.err);
      if (m) return m;
      if (Date.now() > end || this.child.exitCode !== null) {
        throw new Error(`mcp-remote did not print ${pattern}; its log:\n${this.err}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The authorization URL it asks the user to open. */
  async authorizationUrl(): Promise<URL> {
    const m = await this.waitForLog(/Please authorize this client by visiting:\s+(\S+)/);
    return new URL(m[1]!);
  }

  /** Its OAuth callback (redirect URI) origin, as it logged it. */
  async callbackOrigin(): Promise<string> {
    const m = await this.waitForLog(/OAuth callback server running at (http:\/\/\S+)/);
    return m[1]!.replace(/\/$/, '');
  }

  send(message: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  }

  request(method: string, params: Record<string, unknown> = {}, ms = 20_000): Promise<JsonRpcMessage> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to ${method} within ${ms} ms; mcp-remote log:\n${this.err}`));
      }, ms);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.send({ id, method, params });
    });
  }

  /** `initialize` + `notifications/initialized`, as an MCP client starts a session. */
  async initialize(): Promise<JsonRpcMessage> {
    const res = await this.request(
      'initialize',
      {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'browser-e2e', version: '1.0.0' },
      },
      60_000,
    );
    this.send({ method: 'notifications/initialized' });
    return res;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}
