/**
 * The MCP Inspector's CLI (`@modelcontextprotocol/inspector --cli`). Inspector 2.x needs
 * Node.js >= 22.19, so — like the conformance step — it runs on the npm `node@22` package through
 * npx (fetched from the npm registry once, then from npx's cache), whatever Node runs the tests.
 */
import { spawn } from 'node:child_process';

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
