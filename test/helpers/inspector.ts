/**
 * The MCP Inspector's CLI (`@modelcontextprotocol/inspector --cli`). Inspector 2.x needs
 * Node.js >= 22.19, so — like the conformance step — it runs on the npm `node@22` package through
 * npx (fetched from the npm registry once, then from npx's cache), whatever Node runs the tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export const INSPECTOR = '@modelcontextprotocol/inspector@2.12.0';

export interface InspectorRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export function inspectorCli(args: readonly string[], timeoutMs = 120_000): Promise<InspectorRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['-y', '-p', 'node@22', '-p', INSPECTOR, 'mcp-inspector', '--cli', ...args], {
      env: { ...process.env, npm_config_loglevel: 'error', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the Inspector CLI did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export interface InspectorWeb {
  /** The UI's URL with its API token, as the Inspector prints it. */
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/** The Inspector's web UI with one ad-hoc server, on the given port (loopback only). */
export async function startInspectorWeb(
  serverUrl: string,
  port: number,
  sandboxPort: number,
): Promise<InspectorWeb> {
  const child: ChildProcess = spawn(
    'npx',
    [
      '-y',
      '-p',
      'node@22',
      '-p',
      INSPECTOR,
      'mcp-inspector',
      '--server-url',
      serverUrl,
      '--transport',
      'http',
    ],
    {
      env: {
        ...process.env,
        npm_config_loglevel: 'error',
        NO_COLOR: '1',
        CLIENT_PORT: String(port),
        MCP_SANDBOX_PORT: String(sandboxPort),
        MCP_INSPECTOR_SECRET_STORE: 'memory',
        // Where it would open a browser: a command that does nothing (the test drives Chromium).
        BROWSER: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid!, 'SIGTERM'); // npx and the Inspector it started
    await exited;
  };
  const end = Date.now() + 120_000;
  for (;;) {
    const m = /(http:\/\/127\.0\.0\.1:\d+\/?\?MCP_INSPECTOR_API_TOKEN=\w+)/.exec(out);
    if (m) return { url: m[1]!, output: () => out, stop };
    if (Date.now() > end || child.exitCode !== null) {
      await stop();
      throw new Error(`the Inspector web UI did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
