/**
 * The CloudFront variant's origin secret (issue 13 item 2): a value Secrets Manager generates,
 * which CloudFront adds to every origin request as a custom header and both functions require
 * (functions/shared/origin-secret.ts). The value never appears in the template: the header is a
 * `{{resolve:secretsmanager:…}}` dynamic reference that CloudFormation resolves when it creates
 * or updates the distribution, and the functions read the secret at run time through the
 * Parameters and Secrets Lambda extension (so the proxy bundle stays free of the AWS SDK).
 *
 * Rotation (docs/deploy.md §6): put a new value (it becomes AWSCURRENT, the old one AWSPREVIOUS,
 * both accepted by the functions), then deploy with `deploy.cloudfront.origin_secret_version_id`
 * set to the new version: the dynamic reference changes, so CloudFormation updates the
 * distribution, which then sends the new value.
 */
import { Duration, SecretValue, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ORIGIN_SECRET_ENV, ORIGIN_SECRET_HEADER } from '../functions/shared/origin-secret.ts';
import { acknowledge, inPacks } from './nag.ts';

/** Length of the generated value (letters and digits). */
export const ORIGIN_SECRET_LENGTH = 64;

/**
 * The Parameters and Secrets Lambda extension layer: no cache of its own (the functions cache:
 * origin-secret.ts, proxy-keys.ts). The origin secret's, and the proxy secret's (lib/proxy-secret.ts).
 */
export function paramsAndSecretsExtension(): lambda.ParamsAndSecretsLayerVersion {
  return lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103, {
    cacheEnabled: false,
    logLevel: lambda.ParamsAndSecretsLogLevel.WARN,
    secretsManagerTimeout: Duration.seconds(3),
    parameterStoreTimeout: Duration.seconds(3),
  });
}

export class OriginSecret extends Construct {
  readonly secret: secretsmanager.Secret;
  /** The extension layer both functions get (no cache of its own: the functions cache, origin-secret.ts). */
  readonly extension: lambda.ParamsAndSecretsLayerVersion;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'MCP auth proxy: the header CloudFront adds to origin requests (the functions refuse others)',
      generateSecretString: {
        passwordLength: ORIGIN_SECRET_LENGTH,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    this.extension = paramsAndSecretsExtension();
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation must update the CloudFront distribution too (a stack update), so it is a documented procedure (docs/deploy.md §6: put a new value, deploy with deploy.cloudfront.origin_secret_version_id); a rotation Lambda could not make CloudFront send the new value.',
    });
    acknowledge(
      this.secret,
      inPacks('SecretsManagerRotationEnabled'),
      'Same as AwsSolutions-SMG4: rotation is a documented two-step procedure that also updates the distribution.',
    );
    acknowledge(
      this.secret,
      inPacks('SecretsManagerUsingKMSKey'),
      'The value only proves a request came through this CloudFront distribution (it is not a credential to data); it is encrypted with the Secrets Manager key of the account, and only the two functions may read it.',
    );
  }

  /** The function may read the secret; it learns the secret's ARN from its environment. */
  attach(fn: lambda.Function): void {
    this.secret.grantRead(fn);
    fn.addEnvironment(ORIGIN_SECRET_ENV, this.secret.secretArn);
  }

  /** The origin custom header: a dynamic reference, pinned to a version when one is given. */
  originHeaders(versionId?: string): Record<string, string> {
    const value = SecretValue.secretsManager(this.secret.secretArn, { versionId });
    return { [ORIGIN_SECRET_HEADER]: value.unsafeUnwrap() };
  }
}
