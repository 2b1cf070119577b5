/**
 * The facade's signing key when the config names none (issue 10 item 4: the relay, and with it
 * `iss` in every authorization response, must not depend on a manual step). Secrets Manager
 * generates the value; the discovery function reads it like every other secret, through SSM's
 * `/aws/reference/secretsmanager/<name>` parameter (GetParameters, a SecureString), so no code
 * path differs from a key the operator created. The value never appears in the template.
 */
import { Names, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { isObject } from '../functions/shared/encoding.ts';
import type { RawConfig } from './config-source.ts';
import { acknowledge, inPacks } from './nag.ts';

/** SSM's name for a Secrets Manager secret (AWS Systems Manager user guide, "Referencing AWS Secrets Manager secrets"). */
export const SECRETS_MANAGER_REFERENCE = '/aws/reference/secretsmanager/';

/** Whether the config leaves the signing key to the deployment. */
export function needsSigningKey(raw: RawConfig): boolean {
  if (raw.provider === 'embedded') return false;
  const d = isObject(raw.discovery) ? raw.discovery : {};
  return d.signing_key === undefined && d.signing_key_ssm_parameter === undefined;
}

/**
 * A secret Secrets Manager generates (64 letters and digits) under a name known at synth, with
 * the cdk-nag findings acknowledged for what it is (no scheduled rotation, the account's key).
 * The signing key's and the proxy secret's (lib/proxy-secret.ts).
 */
export function generatedSecret(
  scope: Construct,
  name: string,
  text: { readonly description: string; readonly rotation: string; readonly kms: string },
): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'Secret', {
    secretName: name,
    description: text.description,
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
  });
  acknowledge(secret, ['AwsSolutions-SMG4', ...inPacks('SecretsManagerRotationEnabled')], text.rotation);
  acknowledge(secret, inPacks('SecretsManagerUsingKMSKey'), text.kms);
  return secret;
}

export class GeneratedSigningKey extends Construct {
  readonly secret: secretsmanager.Secret;
  /** The SSM parameter name the function config gets as `discovery.signing_key_ssm_parameter`. */
  readonly parameterName: string;

  /** A name known at synth (the config names it), unique per stack and construct. */
  static nameFor(owner: Construct): string {
    return `mcp-auth-proxy/${Stack.of(owner).stackName}/${Names.uniqueId(owner)}/signing-key`;
  }

  /** The SSM name of the key `nameFor(owner)` (what the function config names). */
  static parameterFor(owner: Construct): string {
    return `${SECRETS_MANAGER_REFERENCE}${GeneratedSigningKey.nameFor(owner)}`;
  }

  /** The config the functions get: the generated key named as the signing key parameter. */
  static configWithKey(raw: RawConfig, parameterName: string): RawConfig {
    const discovery = isObject(raw.discovery) ? raw.discovery : {};
    return { ...raw, discovery: { ...discovery, signing_key_ssm_parameter: parameterName } };
  }

  constructor(scope: Construct, id: string, name: string) {
    super(scope, id);
    this.secret = generatedSecret(this, name, {
      description: 'MCP auth proxy: the facade signing key (sealed client ids, relay states, consent tokens)',
      rotation:
        'Rotating the signing key invalidates every facade client id and relay state (clients register again: docs/configuration.md, Known limitations), so it is rotated by the operator, not on a schedule.',
      kms: 'Encrypted with the account’s Secrets Manager key; only the discovery function may read it. Name your own SecureString in discovery.signing_key_ssm_parameter to use a customer key.',
    });
    this.parameterName = `${SECRETS_MANAGER_REFERENCE}${name}`;
  }

  /** The discovery function reads it (SSM GetParameters on the reference is granted with the config's). */
  grantRead(fn: lambda.IFunction): void {
    this.secret.grantRead(fn);
  }
}
