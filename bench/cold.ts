/**
 * The cold path of each synthesized bundle: `cdk synth` (as test/cdk/bundles.test.ts builds
 * them), then fresh processes, each importing one bundle (module init) and answering one request
 * (process start → first response), beside floor handlers that import nothing. The variants take
 * turns, so drift hits all alike; the figures are medians.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { build, type Metafile } from 'esbuild';
import { buildApp } from '../lib/app.ts';
import { PROJECT_ROOT } from '../lib/mcp-auth-proxy.ts';
import { evaluate } from '../test/cdk/helpers.ts';
import { startProxySecretExtension } from '../test/helpers/secrets-extension.ts';
import { median } from './stats.ts';

interface Bundle {
  readonly file: string;
  readonly env: Record<string, string>;
}

const event = (name: string) =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', name), 'utf8')) as APIGatewayProxyEventV2;
export const PROXY_HOST = event('proxy-post-mcp-no-token.json').requestContext.domainName;
const DISCOVERY_HOST = event('discovery-get-authorization-server-metadata.json').requestContext.domainName;

type Resources = Record<
  string,
  { Type: string; Properties: { Environment: { Variables: unknown } }; Metadata: Record<string, string> }
>;

/** Synthesize the stack with bundling; the proxy's and the discovery function's index.mjs and env. */
export function synthBundles(raw: Record<string, unknown>): { proxy: Bundle; discovery: Bundle } {
  const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  const { app, stack } = buildApp(
    raw,
    { outdir, context: { 'aws:cdk:enable-asset-metadata': true } },
    { nag: false },
  );
  const assembly = app.synth();
  const resources = (assembly.getStackByName(stack.stackName).template as { Resources: Resources }).Resources;
  const attrs = {
    McpAuthProxyProxyFunctionFunctionUrl: `https://${PROXY_HOST}/`,
    McpAuthProxyDiscoveryFunctionFunctionUrl: `https://${DISCOVERY_HOST}/`,
  };
  const find = (prefix: string): Bundle => {
    const [, r] = Object.entries(resources).find(
      ([id, x]) => id.startsWith(prefix) && x.Type === 'AWS::Lambda::Function',
    )!;
    return {
      file: join(assembly.directory, r.Metadata['aws:asset:path']!, 'index.mjs'),
      env: evaluate(r.Properties.Environment.Variables, attrs) as Record<string, string>,
    };
  };
  return { proxy: find('McpAuthProxyProxyFunction'), discovery: find('McpAuthProxyDiscoveryFunction') };
}

const FLOOR_STREAMING = `export const handler = awslambda.streamifyResponse(async (event, stream) => {
  const out = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { 'content-type': 'application/json' } });
  out.write('{"jsonrpc":"2.0","id":1,"result":{}}');
  out.end();
});\n`;
const FLOOR_BUFFERED = 'export const handler = async () => ({ statusCode: 200, body: "{}" });\n';

interface Variant {
  readonly name: string;
  readonly file: string;
  readonly kind: 'streaming' | 'buffered';
  readonly event: string;
  readonly env: Record<string, string>;
}

interface Run {
  bootMs: number;
  initMs: number;
  firstResponseMs: number;
  status: number;
}

function once(dir: string, harness: string, v: Variant, i: number): Promise<Run & { wallMs: number }> {
  const result = join(dir, `${v.name}-${i}.json`);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const cp = spawn(process.execPath, [harness, v.file, v.kind, v.event, result], {
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...v.env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    cp.on('error', reject);
    cp.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${v.name}: cold process exited ${code}`));
      const r = JSON.parse(readFileSync(result, 'utf8')) as Run;
      if (r.status !== 200) return reject(new Error(`${v.name}: first response ${r.status}`));
      resolve({ ...r, wallMs: performance.now() - t0 });
    });
  });
}

/** Bytes each package contributes to the proxy bundle (esbuild's metafile, same entry, minified). */
export async function proxyBundleComposition(): Promise<Record<string, number>> {
  const r = await build({
    entryPoints: [join(PROJECT_ROOT, 'functions/proxy/index.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    write: false,
    metafile: true,
    outdir: join(tmpdir(), 'bench-meta'),
  });
  const meta = r.metafile as Metafile;
  const by: Record<string, number> = {};
  for (const out of Object.values(meta.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(out.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'project';
      by[pkg] = (by[pkg] ?? 0) + bytesInOutput;
    }
  }
  return by;
}

export interface ColdInput {
  readonly raw: Record<string, unknown>;
  readonly token: string;
  readonly rounds: number;
}

export async function coldBench(input: ColdInput) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  const synthStarted = performance.now();
  const bundles = synthBundles(input.raw);
  const synthMs = performance.now() - synthStarted;
  const harness = join(dir, 'cold-child.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('cold-child.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: harness,
  });
  writeFileSync(join(dir, 'floor-streaming.mjs'), FLOOR_STREAMING);
  writeFileSync(join(dir, 'floor-buffered.mjs'), FLOOR_BUFFERED);
  const proxyEvent = event('proxy-post-mcp-no-token.json');
  proxyEvent.headers = { ...proxyEvent.headers, authorization: `Bearer ${input.token}` };
  writeFileSync(join(dir, 'proxy-event.json'), JSON.stringify(proxyEvent));
  const discoveryEvent = join(PROJECT_ROOT, 'events', 'discovery-get-authorization-server-metadata.json');
  // The proxy binds session ids, so its first request reads the generated proxy secret through
  // the Parameters and Secrets extension (one loopback HTTP call, as on Lambda): a stand-in.
  const extension = await startProxySecretExtension(bundles.proxy.env);
  const variants: Variant[] = [
    {
      name: 'floorStreaming',
      file: join(dir, 'floor-streaming.mjs'),
      kind: 'streaming',
      event: join(dir, 'proxy-event.json'),
      env: {},
    },
    {
      name: 'proxy',
      file: bundles.proxy.file,
      kind: 'streaming',
      event: join(dir, 'proxy-event.json'),
      env: { ...bundles.proxy.env, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port) },
    },
    {
      name: 'floorBuffered',
      file: join(dir, 'floor-buffered.mjs'),
      kind: 'buffered',
      event: discoveryEvent,
      env: {},
    },
    {
      name: 'discovery',
      file: bundles.discovery.file,
      kind: 'buffered',
      event: discoveryEvent,
      env: bundles.discovery.env,
    },
  ];
  const runs: Record<string, (Run & { wallMs: number })[]> = Object.fromEntries(
    variants.map((v) => [v.name, []]),
  );
  for (let i = 0; i < input.rounds; i++) {
    for (let j = 0; j < variants.length; j++) {
      const v = variants[(i + j) % variants.length]!;
      runs[v.name]!.push(await once(dir, harness, v, i));
    }
  }
  await extension.close();
  const med = (name: string) => ({
    processes: runs[name]!.length,
    bootMs: median(runs[name]!.map((r) => r.bootMs)),
    initMs: median(runs[name]!.map((r) => r.initMs)),
    firstResponseMs: median(runs[name]!.map((r) => r.firstResponseMs)),
    wallMs: median(runs[name]!.map((r) => r.wallMs)),
  });
  return {
    synthMs,
    bundleBytes: {
      proxy: statSync(bundles.proxy.file).size,
      discovery: statSync(bundles.discovery.file).size,
    },
    proxyBundleComposition: await proxyBundleComposition(),
    floorStreaming: med('floorStreaming'),
    proxy: med('proxy'),
    floorBuffered: med('floorBuffered'),
    discovery: med('discovery'),
  };
}
