/**
 * Issue 13 item 7 in the template: the user pool the stack creates requires TOTP MFA, has
 * deletion protection, and threat protection enforced on the Plus plan; each is an opt-out
 * under deploy.cognito, and a bad value is refused naming the key.
 */
import { describe, expect, it } from 'vitest';
import { build, template } from './helpers.ts';

const pool = (cognito: Record<string, unknown> = {}) => ({
  provider: 'cognito',
  base_url: 'https://mcp.internal.example.com',
  deploy: { cognito: { domain_prefix: 'acme-mcp-auth', ...cognito } },
});
const props = (cognito?: Record<string, unknown>) =>
  Object.values(template(pool(cognito)).findResources('AWS::Cognito::UserPool'))[0]!.Properties as Record<
    string,
    unknown
  >;

describe('the created user pool', () => {
  it('by default: MFA required (TOTP only), deletion protection, Essentials without threat protection', () => {
    const p = props();
    expect(p.MfaConfiguration).toBe('ON');
    expect(p.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(p.DeletionProtection).toBe('ACTIVE');
    expect(p.UserPoolTier).toBe('ESSENTIALS');
    expect(p.UserPoolAddOns).toBeUndefined();
  });

  it('feature_plan: plus enforces threat protection (threat_protection: audit only audits)', () => {
    const plus = props({ feature_plan: 'plus' });
    expect(plus.UserPoolTier).toBe('PLUS');
    expect(plus.UserPoolAddOns).toEqual({ AdvancedSecurityMode: 'ENFORCED' });
    expect(props({ feature_plan: 'plus', threat_protection: 'audit' }).UserPoolAddOns).toEqual({
      AdvancedSecurityMode: 'AUDIT',
    });
  });

  it('opt-outs: mfa: optional, deletion_protection: false', () => {
    const p = props({ mfa: 'optional', deletion_protection: false });
    expect(p.MfaConfiguration).toBe('OPTIONAL');
    expect(p.DeletionProtection).toBe('INACTIVE');
  });

  it('refuses an unknown value naming the key', () => {
    expect(() => template(pool({ mfa: 'off' }))).toThrow(
      '`deploy.cognito.mfa` must be one of required, optional (got "off")',
    );
  });

  it.each([
    ['defaults', {}],
    ['plus', { feature_plan: 'plus' }],
    ['opt-outs', { mfa: 'optional', deletion_protection: false }],
  ])('%s synthesize with cdk-nag green', (_n, cognito) => {
    expect(() => build(pool(cognito), { nag: true }).app.synth()).not.toThrow();
  });
});
