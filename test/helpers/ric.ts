/**
 * Run a bundle under AWS's own Node runtime interface client (`aws-lambda-ric`, the client AWS runs
 * in its Node images) against the local Runtime API of runtime-api.ts. The client needs Node >= 22:
 * like the conformance step, it runs on the npm `node@22` package (npx fetches it from the npm
 * registry once). Its native Runtime API client (`rapid-client.node`) is not in the npm package:
 * the package's install scripts build it from the sources it ships (aws-lambda-cpp, curl; about a
 * minute, with cmake, make and a C++ compiler). Those scripts stay off for `npm ci` (`allowScripts`
 * in package.json), so a newcomer's install compiles nothing; the first test that needs the client
 * builds it once, here, in the installed package (ensureNativeClient).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type RuntimeApi, startRuntimeApi } from './runtime-api.ts';

const run = promisify(execFile);
let node22: Promise<string> | undefined;

/** The path of a Node 22 binary (the npm `node@22` package, resolved once per process). */
export function node22Path(): Promise<string> {
  node22 ??= run('npx', ['-y', '-p', 'node@22', 'node', '-p', 'process.execPath'], {
    timeout: 120_000,
  }).then((r) => r.stdout.trim());
  return node22;
}

/** The runtime client's entry point (index.mjs of the installed `aws-lambda-ric`). */
export const RIC_ENTRY = join(
  dirname(createRequire(import.meta.url).resolve('aws-lambda-ric/package.json')),
  'index.mjs',
);

let built: Promise<void> | undefined;

/** Builds the client's native addon once if the install did not (its own pre/postinstall scripts). */
export function ensureNativeClient(): Promise<void> {
  const dir = dirname(RIC_ENTRY);
  if (existsSync(join(dir, 'rapid-client.node'))) return Promise.resolve();
  built ??= (async () => {
    process.stderr.write('[aws-lambda-ric] building its native Runtime API client once (about a minute)\n');
    try {
      for (const script of ['scripts/preinstall.sh', 'scripts/postinstall.sh'])
        await run('sh', [script], { cwd: dir, timeout: 600_000, maxBuffer: 64 * 2 ** 20 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(
        `could not build aws-lambda-ric's native client (needs cmake, make, g++): ${err.stderr?.slice(-2000) ?? err.message}`,
      );
    }
    if (!existsSync(join(dir, 'rapid-client.node')))
      throw new Error('aws-lambda-ric build left no rapid-client.node');
  })();
  return built;
}

export interface UnderRic {
  readonly api: RuntimeApi;
  /** Every line the function wrote to stdout/stderr (the runtime's log sink when no telemetry fd). */
  readonly lines: string[];
  stop(): Promise<void>;
}

export interface RicOptions {
  /** Directory holding the handler module (LAMBDA_TASK_ROOT and working directory). */
  readonly dir: string;
  /** `_HANDLER`, e.g. `index.handler`. */
  readonly handler: string;
  /** The function's own environment (from the template). */
  readonly env?: Readonly<Record<string, string>>;
  readonly name?: string;
}

/** The environment Lambda gives every function (the client refuses to start without it). */
function lambdaEnv(o: RicOptions, api: RuntimeApi): Record<string, string> {
  const name = o.name ?? 'under-ric';
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_LAMBDA_RUNTIME_API: api.address,
    _HANDLER: o.handler,
    LAMBDA_TASK_ROOT: o.dir,
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'ric',
    // What the construct configures (LoggingFormat.JSON, application log level INFO).
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_LEVEL: 'INFO',
    ...o.env,
  };
}

export async function startUnderRic(o: RicOptions): Promise<UnderRic> {
  await ensureNativeClient();
  const api = await startRuntimeApi();
  const node = await node22Path();
  const child: ChildProcess = spawn(node, [RIC_ENTRY, o.handler], {
    cwd: o.dir,
    env: lambdaEnv(o, api),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const take = (d: Buffer) => {
    const parts = (partial + d.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    api,
    lines,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await api.close();
    },
  };
}
