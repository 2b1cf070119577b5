/**
 * The proxy secret when the config names none (issue 11 items 5 and 6): the session-id key and
 * the identity JWT key are derived from it (functions/proxy/proxy-keys.ts), so it must be the same
 * on every instance. Secrets Manager generates the value (never in the template); the config the
 * functions get names it through SSM's `/aws/reference/secretsmanager/<name>` parameter, which the
 * proxy reads through the Parameters and Secrets Lambda extension (no AWS SDK in its bundle).
 * Only the proxy may read it: `ssm:GetParameter` on that one parameter, `GetSecretValue` on that
 * one secret.
 */
import { Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { isObject } from '../functions/shared/encoding.ts';
import type { RawConfig } from './config-source.ts';
import { generatedSecret, SECRETS_MANAGER_REFERENCE } from './signing-key.ts';

/** The config key naming the proxy secret (read by the proxy only). */
export const PROXY_SECRET_KEY = 'proxy_secret_ssm_parameter';

const on = (v: unknown, def: boolean) => (v === undefined || v === null ? def : v === true || v === 'true');
const enabled = (raw: RawConfig, section: string, def: boolean) =>
  on(isObject(raw[section]) ? (raw[section] as Record<string, unknown>).enabled : undefined, def);

/** Whether the config uses the proxy secret (session binding is on by default). */
export function usesProxySecret(raw: RawConfig): boolean {
  return enabled(raw, 'session_binding', true) || enabled(raw, 'upstream_identity', false);
}

/** Whether the config leaves the proxy secret to the deployment. */
export function needsProxySecret(raw: RawConfig): boolean {
  return usesProxySecret(raw) && raw.proxy_secret === undefined && raw[PROXY_SECRET_KEY] === undefined;
}

export class GeneratedProxySecret extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly parameterName: string;

  /** A name known at synth (the config names it), unique per stack and construct. */
  static nameFor(owner: Construct): string {
    return `mcp-auth-proxy/${Stack.of(owner).stackName}/${Names.uniqueId(owner)}/proxy-secret`;
  }

  static parameterFor(owner: Construct): string {
    return `${SECRETS_MANAGER_REFERENCE}${GeneratedProxySecret.nameFor(owner)}`;
  }

  /** The config the functions get: the generated secret named as the proxy secret parameter. */
  static configWithSecret(raw: RawConfig, parameterName: string): RawConfig {
    return { ...raw, [PROXY_SECRET_KEY]: parameterName };
  }

  constructor(scope: Construct, id: string, name: string) {
    super(scope, id);
    this.secret = generatedSecret(this, name, {
      description: 'MCP auth proxy: the proxy secret (session-id binding, identity JWT signing key)',
      rotation:
        'Rotating the proxy secret ends every MCP session (clients initialize again) and changes the identity JWT key, so it is rotated by the operator (docs/deploy.md §2), not on a schedule.',
      kms: 'Encrypted with the account’s Secrets Manager key; only the proxy function may read it. Name your own SecureString in proxy_secret_ssm_parameter to use a customer key.',
    });
    this.parameterName = `${SECRETS_MANAGER_REFERENCE}${name}`;
  }

  grantRead(fn: lambda.IFunction): void {
    this.secret.grantRead(fn);
  }
}

/** The proxy reads its secret's parameter (GetParameter: the extension's call), and nothing else does. */
export function grantProxySecretParameter(fn: lambda.IFunction, parameterArn: string): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] }));
}
