/**
 * The handler's own cost, without the local runner: in a process of its own, requests go
 * (a) straight to the upstream (undici, the baseline), (b) through the deployed Lambda handler
 * (functions/proxy/index.ts) called in-process with a Function URL event and the runtime's
 * response stream, as Lambda calls it, and (c) through the core alone (`createProxy`, Web
 * Request in, Web Response out). Interleaved, one at a time, so each request's CPU time
 * (`process.cpuUsage` delta) and latency are its own.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { Agent, request } from 'undici';
import { installAwsLambdaGlobal, RuntimeResponseStream } from '../bin/local/awslambda.ts';
import { parseConfig } from '../functions/shared/config/index.ts';
import { childArg, serveCommands, usage } from './ipc.ts';
import { summarize } from './stats.ts';

installAwsLambdaGlobal();
const { buildHandler } = await import('../functions/proxy/index.ts');
const { createProxy } = await import('../functions/proxy/pipeline.ts');
const { createVerifier } = await import('../functions/proxy/verifiers.ts');
const { silentLogger } = await import('../functions/shared/log.ts');

interface Arg {
  config: Record<string, unknown>;
  upstream: string;
  token: string;
  body: string;
}
const arg = childArg<Arg>();
const config = parseConfig(arg.config);
const handler = buildHandler(config) as unknown as (e: unknown, s: unknown, c: Context) => Promise<void>;
const core = createProxy(config, { verifier: createVerifier(config), log: silentLogger });
const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
const HOST = 'bench.lambda-url.eu-west-1.on.aws';

function event(): APIGatewayProxyEventV2 {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/mcp',
    rawQueryString: '',
    headers: {
      host: HOST,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${arg.token}`,
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '203.0.113.10',
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bench',
      domainName: HOST,
      domainPrefix: 'bench',
      http: { method: 'POST', path: '/mcp', protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: '' },
      requestId: `r${now}`,
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: now,
    },
    body: arg.body,
    isBase64Encoded: false,
  };
}

const context = (id: string): Context =>
  ({
    callbackWaitsForEmptyEventLoop: true,
    awsRequestId: id,
    getRemainingTimeInMillis: () => 60_000,
  }) as Context;

/** One invocation as the runtime makes it; resolves when the response stream has ended. */
async function viaHandler(): Promise<number> {
  let bytes = 0;
  let status = '';
  let ended!: () => void;
  const done = new Promise<void>((r) => {
    ended = r;
  });
  const stream = new RuntimeResponseStream(
    (c) => {
      if (!bytes) status = /"statusCode":(\d+)/.exec(c.toString())?.[1] ?? '?';
      bytes += c.length;
    },
    () => ended(),
  );
  const e = event();
  await handler(e, stream, context(e.requestContext.requestId));
  await done;
  if (status !== '200') throw new Error(`handler answered ${status}`);
  return bytes;
}

async function viaCore(): Promise<number> {
  const res = await core(
    new Request(`https://${HOST}/mcp`, {
      method: 'POST',
      body: arg.body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${arg.token}` },
    }),
  );
  if (res.status !== 200) throw new Error(`core answered ${res.status}`);
  return (await res.arrayBuffer()).byteLength;
}

async function direct(): Promise<number> {
  const r = await request(`${arg.upstream}/mcp`, {
    method: 'POST',
    body: arg.body,
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
  });
  if (r.statusCode !== 200) throw new Error(`upstream answered ${r.statusCode}`);
  return (await r.body.arrayBuffer()).byteLength;
}

const VARIANTS = { direct, handler: viaHandler, core: viaCore } as const;
type Name = keyof typeof VARIANTS;

/** `n` rounds; each round runs every variant once, the order rotating so drift hits all alike. */
async function run({ n }: { n: number }) {
  const names = Object.keys(VARIANTS) as Name[];
  const lat: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const cpu: Record<string, number> = Object.fromEntries(names.map((k) => [k, 0]));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]!;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const bytes = await VARIANTS[name]();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (bytes <= 0) throw new Error(`${name}: empty response`);
      lat[name]!.push(ms);
      cpu[name]! += (c.user + c.system) / 1000;
    }
  }
  return Object.fromEntries(
    names.map((k) => [k, { ...summarize(lat[k]!), cpuMsPerRequest: cpu[k]! / n }]),
  ) as Record<Name, ReturnType<typeof summarize> & { cpuMsPerRequest: number }>;
}

serveCommands({}, { usage, run: (a) => run(a as { n: number }) });
