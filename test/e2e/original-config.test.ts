/**
 * The original Go proxy's sample config.yaml (test/fixtures/original/config.yaml, byte for byte
 * its own) parsed by our config and run through the proxy core with its scope map enforced: a
 * token with `mcp_init` may initialize but not call `echo_tool` without `mcp_echo_tool`. The test
 * injects the verifier (tokens of a test issuer, with the audience the YAML names) and sends the
 * upstream requests to a test server instead of the YAML's `base_url`; the YAML is not edited.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { undiciUpstream } from '../../functions/proxy/forward/upstream.ts';
import { createProxy, type ProxyHandler } from '../../functions/proxy/pipeline.ts';
import { createJwtVerifier } from '../../functions/proxy/token.ts';
import { type Config, parseConfig } from '../../functions/shared/config/index.ts';
import { createLogger } from '../../functions/shared/log.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

const file = fileURLToPath(new URL('../fixtures/original/config.yaml', import.meta.url));
const yaml = readFileSync(file, 'utf8');
/** Git's blob id of config.yaml in wso2/open-mcp-auth-proxy at 017a3f3 (`git ls-tree HEAD config.yaml`). */
const ORIGINAL_BLOB = '47eb8eb8b1a5bb5c420f0421502e9c807fcbe331';

let idp: TestIssuer;
let upstream: FakeUpstream;
let cfg: Config;
let proxy: ProxyHandler;
const audit: Record<string, unknown>[] = [];

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  cfg = parseConfig(parseYaml(yaml));
  proxy = createProxy(cfg, {
    verifier: createJwtVerifier({
      issuer: idp.issuer,
      jwksUri: idp.jwksUri,
      algorithms: cfg.token.algorithms,
      clockSkewSeconds: cfg.token.clockSkewSeconds,
    }),
    upstream: (r) => undiciUpstream({ ...r, url: r.url.replace(cfg.upstream.baseUrl, upstream.url) }),
    log: createLogger('proxy', 'info', (l) => {
      const line = JSON.parse(l);
      if (line.message === 'mcp authorization') audit.push(line);
    }),
  });
});

afterAll(async () => {
  await upstream?.close();
  await idp?.close();
});

beforeEach(() => {
  upstream.seen.length = 0;
  audit.length = 0;
});

const ORIGIN = 'http://localhost:8080';

async function post(path: string, scope: string, body: unknown) {
  const token = await idp.sign({ aud: '2xGW_poFYoObUE_vUQxvGdPSUPwa', scope });
  return proxy(
    new Request(`${ORIGIN}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify(body),
    }),
  );
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const echo = {
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'echo_tool', arguments: { text: 'x' } },
};

describe("the original's sample config.yaml, unchanged", () => {
  it('is the file of the original repository, byte for byte', () => {
    expect(yaml).toContain(
      '    - initialize: "mcp_init"\n    - tools/call:\n      - echo_tool: "mcp_echo_tool"\n',
    );
    const bytes = readFileSync(file);
    const blob = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    expect(blob).toBe(ORIGINAL_BLOB);
  });

  it('a token with mcp_init may initialize', async () => {
    const res = await post('/mcp', 'mcp_init', initialize);
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    expect(audit).toEqual([
      expect.objectContaining({ method: 'initialize', decision: 'allow', sub: 'alice' }),
    ]);
  });

  it('but not call echo_tool without mcp_echo_tool: 403 naming it, nothing forwarded', async () => {
    const res = await post('/mcp', 'mcp_init', echo);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="insufficient scope", scope="mcp_echo_tool", resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(upstream.seen).toHaveLength(0);
    expect(audit).toEqual([
      expect.objectContaining({
        method: 'tools/call',
        tool: 'echo_tool',
        decision: 'deny',
        reason: 'missing scopes: mcp_echo_tool',
      }),
    ]);
  });

  it('on its legacy messages endpoint too', async () => {
    const res = await post('/messages/?session_id=abc', 'mcp_init', echo);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="mcp_echo_tool"');
    expect(upstream.seen).toHaveLength(0);
  });

  it('with mcp_echo_tool the call reaches the upstream', async () => {
    const res = await post('/mcp', 'mcp_init mcp_echo_tool', echo);
    expect(res.status).toBe(200);
    expect(upstream.seen.map((s) => JSON.parse(s.body).params.name)).toEqual(['echo_tool']);
  });

  it('other tools need no scope there (the original: unlisted tools are allowed)', async () => {
    const res = await post('/mcp', '', { ...echo, params: { name: 'other_tool', arguments: {} } });
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
  });

  it('its PRM lists the scopes its map names', async () => {
    const res = await proxy(new Request(`${ORIGIN}/.well-known/oauth-protected-resource/sse`));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: 'http://localhost:8080/sse',
      authorization_servers: ['https://api.asgardeo.io/t/openmcpauthdemo/oauth2/token'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp_init', 'mcp_echo_tool'],
    });
  });
});
