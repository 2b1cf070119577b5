/**
 * The web ACL the CloudFront variant creates when none is given (issue 13 item 2): a rate-based
 * rule that blocks a viewer address sending more than `limit` requests to `/register` or
 * `/token` within five minutes. WAF counts per viewer address over all of CloudFront, where the
 * discovery function's own limit (`discovery.registration_rate_per_minute`) counts per Lambda
 * instance and sees CloudFront's edge addresses. A web ACL for CloudFront must be created in
 * us-east-1 (lib/deploy-options.ts refuses another known region).
 */
import { Stack } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

/** Default requests per viewer address per five minutes to /register and /token. */
export const DEFAULT_RATE_LIMIT = 100;
/** WAF's bounds for a rate-based rule's limit. */
export const MIN_RATE_LIMIT = 10;
export const MAX_RATE_LIMIT = 2_000_000_000;

const exactPath = (path: string): wafv2.CfnWebACL.StatementProperty => ({
  byteMatchStatement: {
    fieldToMatch: { uriPath: {} },
    positionalConstraint: 'EXACTLY',
    searchString: path,
    textTransformations: [{ priority: 0, type: 'NONE' }],
  },
});

const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

export function createRateLimitWebAcl(scope: Construct, id: string, limit: number): wafv2.CfnWebACL {
  const name = `${Stack.of(scope).stackName}-mcp-auth`;
  return new wafv2.CfnWebACL(scope, id, {
    scope: 'CLOUDFRONT',
    description: 'MCP auth proxy: rate limit on /register and /token per viewer address',
    defaultAction: { allow: {} },
    visibilityConfig: visibility(name),
    rules: [
      {
        name: 'RateLimitRegisterAndToken',
        priority: 0,
        action: { block: {} },
        statement: {
          rateBasedStatement: {
            limit,
            aggregateKeyType: 'IP',
            evaluationWindowSec: 300,
            scopeDownStatement: {
              orStatement: { statements: [exactPath('/register'), exactPath('/token')] },
            },
          },
        },
        visibilityConfig: visibility(`${name}-register-token`),
      },
    ],
  });
}
