/**
 * Our `awslambda` emulation (bin/local/awslambda.ts: what the local runner, bundles.test.ts and
 * every handler test rely on) against AWS's own Node runtime interface client, `aws-lambda-ric`
 * 4.x, the client AWS runs in its Node images. The synthesized bundles run under both for the same
 * invocations — under the real client in a Node 22 process polling a local Runtime API
 * (helpers/runtime-api.ts), under the emulation in this process — and what each sends back to the
 * Runtime API must be the same: content type, the metadata prelude (status, headers, cookies), the
 * body, when each streamed chunk arrives, and how a failure mid-stream is reported.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIMITER, installAwsLambdaGlobal, PRELUDE_CONTENT_TYPE } from '../../bin/local/awslambda.ts';
import { CONSENT_COOKIE } from '../../functions/discovery/consent.ts';
import { PROJECT_ROOT } from '../../lib/mcp-auth-proxy.ts';
import { type SynthesizedBundles, synthBundles } from '../helpers/bundles.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { serve, sleep, type TestServer } from '../helpers/net.ts';
import { startUnderRic, type UnderRic } from '../helpers/ric.ts';
import { emulatedContext, invokeEmulated, type RuntimeRecording } from '../helpers/runtime-api.ts';
import { startProxySecretExtension } from '../helpers/secrets-extension.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

const loadEvent = (name: string) =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', name), 'utf8')) as APIGatewayProxyEventV2;
const PROXY_HOST = loadEvent('proxy-get-protected-resource-metadata.json').requestContext.domainName;
const DISCOVERY_HOST = loadEvent('discovery-get-authorization-server-metadata.json').requestContext
  .domainName;

/** A handler that answers the way the notes say trips the runtime: `end()` without any write. */
const FIXTURE = `
export const handler = awslambda.streamifyResponse(async (event, stream) => {
  const out = awslambda.HttpResponseStream.from(stream, { statusCode: 404, headers: { 'x-a': '1' } });
  if (event.case === 'members') {
    const own = Object.getOwnPropertyNames(stream).sort().map((k) => k + ':' + typeof stream[k]);
    const writable = ['pipe', 'setDefaultEncoding', '_write', 'closed', 'errored', 'writableAborted'];
    out.write(JSON.stringify({ own, inherited: writable.filter((k) => k in stream) }));
    out.end();
  } else if (event.case === 'end-only') out.end();
  else if (event.case === 'end-data') out.end('data');
  else { out.write(''); out.end(); }
  await new Promise((r) => (out.writableFinished ? r() : out.on('finish', r)));
});
`;

let idp: TestIssuer;
let idpMeta: TestServer;
let extension: TestServer;
let upstream: FakeUpstream;
let bundles: SynthesizedBundles;
let ric: { proxy: UnderRic; discovery: UnderRic; fixture: UnderRic; firstProxyId?: string };
// biome-ignore lint/suspicious/noExplicitAny: handlers loaded from the bundles
let emulated: { proxy: any; discovery: any; fixture: any };

/** Bundle log lines written to stdout in this process go to the console (shown for failures only). */
function routeBundleLogsToConsole(): void {
  const write = process.stdout.write.bind(process.stdout) as (c: unknown, ...r: unknown[]) => boolean;
  let inside = false;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!inside && typeof chunk === 'string' && chunk.startsWith('{"timestamp"')) {
      inside = true;
      console.log(chunk.trimEnd());
      inside = false;
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
}

/** Import a bundle as Lambda loads it: the awslambda global exists, the environment is set. */
async function importUnder(env: Record<string, string>, file: string) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    process.env = saved;
  }
}

beforeAll(async () => {
  idp = await startTestIssuer();
  // The IdP's discovery document (an authorization endpoint for the facade's redirect); its keys
  // are the test issuer's.
  idpMeta = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        issuer: idpMeta.url,
        authorization_endpoint: `${idpMeta.url}/authorize`,
        token_endpoint: `${idpMeta.url}/token`,
        jwks_uri: idp.jwksUri,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      }),
    );
  });
  upstream = await startFakeUpstream();
  bundles = synthBundles(
    {
      provider: 'oidc',
      base_url: upstream.url,
      default: { base_url: idpMeta.url, jwks_url: idp.jwksUri },
      deploy: { stack_name: 'RicTest', generate_signing_key: false },
    },
    { proxy: `https://${PROXY_HOST}/`, discovery: `https://${DISCOVERY_HOST}/` },
  );
  // Session binding is on: the proxy reads its generated secret through the extension's HTTP API,
  // on loopback here, under both the real client and the emulation.
  extension = await startProxySecretExtension(bundles.proxy.env);
  const fixtureDir = mkdtempSync(join(tmpdir(), 'ric-fixture-'));
  writeFileSync(join(fixtureDir, 'index.mjs'), FIXTURE);
  const [proxy, discovery, fixture] = await Promise.all([
    startUnderRic({
      dir: bundles.proxy.dir,
      handler: 'index.handler',
      env: { ...bundles.proxy.env, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port) },
      name: 'proxy',
    }),
    startUnderRic({
      dir: bundles.discovery.dir,
      handler: 'index.handler',
      env: bundles.discovery.env,
      name: 'discovery',
    }),
    startUnderRic({ dir: fixtureDir, handler: 'index.handler' }),
  ]);
  ric = { proxy, discovery, fixture };

  installAwsLambdaGlobal();
  routeBundleLogsToConsole();
  const logEnv = { AWS_LAMBDA_LOG_LEVEL: 'INFO' };
  const proxyMod = await importUnder(
    { ...bundles.proxy.env, ...logEnv, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port) },
    join(bundles.proxy.dir, 'index.mjs'),
  );
  const discoveryMod = await importUnder(
    { ...bundles.discovery.env, ...logEnv },
    join(bundles.discovery.dir, 'index.mjs'),
  );
  const fixtureMod = await import(pathToFileURL(join(fixtureDir, 'index.mjs')).href);
  emulated = { proxy: proxyMod.handler, discovery: discoveryMod.handler, fixture: fixtureMod.handler };
  // The discovery handler is built on its first call, under its own environment.
  const saved = { ...process.env };
  Object.assign(process.env, bundles.discovery.env, logEnv);
  await emulated.discovery(
    loadEvent('discovery-get-authorization-server-metadata.json'),
    emulatedContext('warm', 'discovery'),
  );
  process.env = saved;
}, 240_000);

afterAll(async () => {
  await extension?.close();
  if (process.env.RIC_DUMP)
    writeFileSync(process.env.RIC_DUMP, [...ric.proxy.lines, ...ric.discovery.lines].join('\n'));
  await Promise.all([ric?.proxy.stop(), ric?.discovery.stop(), ric?.fixture.stop()]);
  await upstream?.close();
  await idpMeta?.close();
  await idp?.close();
});

let seq = 0;
const CONSENT_NONCE = 'n0nce-of-this-browser-'.padEnd(43, 'x');
/** The same event under the real client and under the emulation (same request id). */
async function both(fn: 'proxy' | 'discovery' | 'fixture', event: unknown) {
  const requestId = `ric-${++seq}-${Date.now()}`;
  if (fn === 'proxy') ric.firstProxyId ??= requestId;
  const real = await ric[fn].api.invoke(event, { requestId });
  const emu = await invokeEmulated(emulated[fn], event, emulatedContext(requestId, fn));
  return { real, emu };
}

/** What the Function URL front end makes of a streamed response: prelude, body, failure. */
function decode(r: RuntimeRecording) {
  const all = Buffer.concat(r.chunks.map((c) => c.data));
  const at = r.contentType === PRELUDE_CONTENT_TYPE ? all.indexOf(DELIMITER) : -1;
  const prelude = at >= 0 ? JSON.parse(all.subarray(0, at).toString('utf8')) : undefined;
  // The upstream's Date (passed through) is the one value that depends on the wall clock.
  if (prelude?.headers?.date) prelude.headers.date = '(date)';
  return {
    mode: r.mode,
    contentType: r.contentType,
    prelude,
    body: (at >= 0 ? all.subarray(at + DELIMITER.length) : all).toString('utf8'),
    error: r.error && { type: r.error.type, message: r.error.body.errorMessage },
  };
}

/** Arrival time of the first byte at which `text` is complete in the received body. */
function arrivalOf(r: RuntimeRecording, text: string): number {
  let seen = '';
  for (const c of r.chunks) {
    seen += c.data.toString('utf8');
    if (seen.includes(text)) return c.at;
  }
  return Number.POSITIVE_INFINITY;
}

const mcpPost = (authorization?: string) => {
  const base = loadEvent('proxy-post-mcp-no-token.json');
  return {
    ...base,
    headers: {
      ...base.headers,
      accept: 'application/json, text/event-stream',
      ...(authorization ? { authorization } : {}),
    },
  };
};
const issued: string[] = [];
const token = async () => {
  const t = await idp.sign({ iss: idpMeta.url, aud: `https://${PROXY_HOST}/mcp` });
  issued.push(t);
  return t;
};

describe('the proxy bundle (streaming) under aws-lambda-ric = under the emulation', () => {
  it('metadata document and 401: same prelude (status, headers) and body', async () => {
    for (const event of [loadEvent('proxy-get-protected-resource-metadata.json'), mcpPost()]) {
      const { real, emu } = await both('proxy', event);
      expect(decode(real)).toEqual(decode(emu));
      expect(real.mode).toBe('streaming');
      expect(real.contentType).toBe(PRELUDE_CONTENT_TYPE);
      expect(decode(real).prelude.statusCode).toBeOneOf([200, 401]);
    }
  });

  it('upstream cookies travel in the prelude `cookies`, not in headers', async () => {
    upstream.setHandler((_r, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': ['a=1; Path=/', 'b=2; Secure'],
      });
      res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
    const { real, emu } = await both('proxy', mcpPost(`Bearer ${await token()}`));
    expect(decode(real)).toEqual(decode(emu));
    expect(decode(real).prelude).toMatchObject({ statusCode: 200, cookies: ['a=1; Path=/', 'b=2; Secure'] });
    expect(decode(real).prelude.headers['set-cookie']).toBeUndefined();
  });

  it('streams SSE events one by one: each arrives before the upstream sends the next', async () => {
    const events = [1, 2, 3].map(
      (i) => `event: message\ndata: {"jsonrpc":"2.0","method":"n","params":{"i":${i}}}\n\n`,
    );
    let sent: number[] = [];
    upstream.setHandler(async (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const [i, e] of events.entries()) {
        if (i) await sleep(300);
        sent.push(performance.now());
        res.write(e);
      }
      res.end();
    });
    const runs: RuntimeRecording[] = [];
    for (const fn of ['real', 'emu'] as const) {
      sent = [];
      const requestId = `sse-${fn}-${Date.now()}`;
      const event = mcpPost(`Bearer ${await token()}`);
      const r =
        fn === 'real'
          ? await ric.proxy.api.invoke(event, { requestId })
          : await invokeEmulated(emulated.proxy, event, emulatedContext(requestId, 'proxy'));
      for (const [i, e] of events.slice(0, -1).entries()) {
        expect(
          arrivalOf(r, e.trim()),
          `${fn}: event ${i + 1} arrived before event ${i + 2} was sent`,
        ).toBeLessThan(sent[i + 1]!);
      }
      runs.push(r);
    }
    const [real, emu] = runs.map(decode);
    expect(real).toEqual(emu);
    expect(real!.prelude).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'text/event-stream' },
    });
    expect(real!.body).toBe(events.join(''));
  });

  it('an upstream reset mid-stream fails the response: error trailers under the real client', async () => {
    upstream.setHandler(async (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"n"}\n\n');
      await sleep(100);
      res.socket?.destroy();
    });
    const { real, emu } = await both('proxy', mcpPost(`Bearer ${await token()}`));
    expect(decode(real)).toEqual(decode(emu));
    expect(real.error?.type).toBe('Error');
    expect(real.error?.body.errorMessage).toBe('response body failed');
    expect(decode(real).body).toContain('data: {"jsonrpc":"2.0","method":"n"}');
  });

  it('a large body (backpressure) arrives whole and in order', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { blob: 'x'.repeat(3 * 1024 * 1024) } });
    upstream.setHandler((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(big);
    });
    const { real, emu } = await both('proxy', mcpPost(`Bearer ${await token()}`));
    expect(decode(real)).toEqual(decode(emu));
    expect(decode(real).body).toBe(big);
    expect(real.chunks.length).toBeGreaterThan(3);
  });
});

describe('the discovery bundle (buffered) under aws-lambda-ric = under the emulation', () => {
  it('the metadata document: the same result object', async () => {
    const { real, emu } = await both(
      'discovery',
      loadEvent('discovery-get-authorization-server-metadata.json'),
    );
    expect(real.mode).toBe('buffered');
    expect(real.result).toEqual(emu.result);
    expect(real.result).toMatchObject({ statusCode: 200, isBase64Encoded: false });
  });

  it('a redirect with a cookie (consent allowed): status, location and `cookies`', async () => {
    const nonce = CONSENT_NONCE;
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: 'http://127.0.0.1:33333/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'st',
    }).toString();
    const base = loadEvent('discovery-get-authorization-server-metadata.json');
    const event = {
      ...base,
      rawPath: '/authorize/consent',
      requestContext: {
        ...base.requestContext,
        http: { ...base.requestContext.http, method: 'POST', path: '/authorize/consent' },
      },
      headers: { ...base.headers, 'content-type': 'application/x-www-form-urlencoded' },
      cookies: [`${CONSENT_COOKIE}=${nonce}`],
      body: new URLSearchParams({ request: query, csrf: nonce, decision: 'allow' }).toString(),
    };
    const { real, emu } = await both('discovery', event);
    expect(real.result).toEqual(emu.result);
    expect(real.result).toMatchObject({
      statusCode: 302,
      cookies: [expect.stringContaining(`${CONSENT_COOKIE}=;`)],
    });
    expect((real.result as { headers: Record<string, string> }).headers.location).toMatch(
      new RegExp(`^${idpMeta.url}/authorize\\?`),
    );
  });
});

describe('end() without a write (fixture handler)', () => {
  it.each(['end-only', 'end-data', 'write-then-end'])('%s: the same bytes under both', async (c) => {
    const { real, emu } = await both('fixture', { case: c });
    expect(decode(real)).toEqual(decode(emu));
  });

  it('the response stream a handler gets has exactly the members of the real one', async () => {
    const { real, emu } = await both('fixture', { case: 'members' });
    expect(JSON.parse(decode(emu).body)).toEqual(JSON.parse(decode(real).body));
    expect(JSON.parse(decode(real).body).own).toContain('write:function');
  });

  it('end() alone sends no prelude at all; an empty write first sends it', async () => {
    const only = decode((await both('fixture', { case: 'end-only' })).real);
    expect(only).toMatchObject({ contentType: PRELUDE_CONTENT_TYPE, prelude: undefined, body: '' });
    const data = decode((await both('fixture', { case: 'end-data' })).real);
    expect(data).toMatchObject({ contentType: PRELUDE_CONTENT_TYPE, prelude: undefined, body: 'data' });
    const written = decode((await both('fixture', { case: 'write-then-end' })).real);
    expect(written).toMatchObject({ prelude: { statusCode: 404, headers: { 'x-a': '1' } }, body: '' });
  });
});

describe('logs and metrics under the real client (stdout of both functions)', () => {
  const parsed = () =>
    [...ric.proxy.lines, ...ric.discovery.lines].map((l) => JSON.parse(l) as Record<string, unknown>);

  it('every line is JSON; ours carry the request id and the cold-start flag', async () => {
    await sleep(200);
    const ours = parsed().filter((l) => 'component' in l || '_aws' in l);
    expect(ours.length).toBeGreaterThan(20);
    for (const l of ours) {
      expect(typeof l.coldStart).toBe('boolean');
      // Without a request id only the init phase: the cold start.
      if (l.requestId === undefined) expect(l.coldStart).toBe(true);
    }
    const first = ours.find((l) => l.requestId === ric.firstProxyId)!;
    expect(first).toMatchObject({ coldStart: true });
    expect(
      ours.filter((l) => String(l.requestId).startsWith('sse-real-')).every((l) => l.coldStart === false),
    ).toBe(true);
  });

  it('EMF: requests by status and decision, upstream latency, stream duration and bytes, JWKS fetches', () => {
    const emf = parsed().filter((l) => '_aws' in l);
    const proxyFn = bundles.proxy.env.AWS_LAMBDA_FUNCTION_NAME ?? 'proxy';
    expect(emf.find((l) => l.Requests === 1 && l.Status === '401')).toMatchObject({ FunctionName: proxyFn });
    expect(emf.find((l) => l.Requests === 1 && l.Status === '302')).toMatchObject({ Decision: 'ok' });
    expect(emf.some((l) => typeof l.UpstreamLatency === 'number')).toBe(true);
    const big = emf.find(
      (l) => typeof l.StreamBytes === 'number' && (l.StreamBytes as number) > 3 * 1024 * 1024,
    );
    expect(big).toMatchObject({ Close: 'upstream-end' });
    expect(emf.find((l) => l.Close === 'upstream-error')).toBeDefined();
    expect(emf.find((l) => l.JwksRefreshes === 1)).toMatchObject({ Outcome: 'ok' });
  });

  it('no line carries a token, a token signature or the consent nonce', () => {
    const all = [...ric.proxy.lines, ...ric.discovery.lines].join('\n');
    expect(issued.length).toBeGreaterThan(3);
    for (const t of issued) {
      expect(all).not.toContain(t);
      expect(all).not.toContain(t.split('.')[2]!);
    }
    expect(all).not.toContain(CONSENT_NONCE);
  });
});
