/**
 * The functions' Lambda log settings match what they write (shared/log.ts, shared/metrics.ts):
 * JSON log format; application level INFO (EMF lines have no `level`: INFO), DEBUG only when
 * `logging.debug_sample_percent` samples debug lines, the functions' own level then kept at INFO.
 */
import { describe, expect, it } from 'vitest';
import { BASE, resource, template } from './helpers.ts';

const fns = (raw: typeof BASE) => {
  const t = template(raw);
  return ['McpAuthProxyProxyFunction', 'McpAuthProxyDiscoveryFunction'].map(
    (p) => resource(t, 'AWS::Lambda::Function', p).props as Record<string, Record<string, unknown>>,
  );
};

describe('log settings of both functions', () => {
  it('default: JSON format, application logs at INFO, no level override', () => {
    for (const f of fns(BASE)) {
      expect(f.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' });
      expect((f.Environment!.Variables as Record<string, unknown>).MCP_AUTH_PROXY_LOG_LEVEL).toBeUndefined();
    }
  });

  it('with debug sampling: Lambda keeps DEBUG lines, the functions log INFO unless sampled', () => {
    for (const f of fns({ ...BASE, logging: { debug_sample_percent: 10 } })) {
      expect(f.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG' });
      expect(f.Environment!.Variables).toMatchObject({ MCP_AUTH_PROXY_LOG_LEVEL: 'INFO' });
    }
  });
});
