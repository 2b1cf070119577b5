/**
 * Builds the CDK app from a raw config: the stack plus the cdk-nag checks (AwsSolutions,
 * Serverless, NIST 800-53 R5 and HIPAA Security packs).
 * `bin/app.ts` calls this with config.yaml and the `-c` context; tests call it directly.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import type { RawConfig } from './config-source.ts';
import { parseDeployOptions } from './deploy-options.ts';
import { McpAuthProxyStack } from './mcp-auth-proxy-stack.ts';

export interface BuiltApp {
  readonly app: App;
  readonly stack: McpAuthProxyStack;
}

export function buildApp(raw: RawConfig, appProps: AppProps = {}, opts: { nag?: boolean } = {}): BuiltApp {
  const app = new App(appProps);
  const deploy = parseDeployOptions(raw);
  const account = deploy.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = deploy.region ?? process.env.CDK_DEFAULT_REGION;
  const stack = new McpAuthProxyStack(app, deploy.stackName, {
    config: raw,
    deploy,
    description: 'Open MCP Auth Proxy: OAuth 2.1 gateway for an MCP server on Lambda Function URLs',
    // Environment-agnostic unless given (a VPC lookup needs both).
    env: deploy.vpc?.lookup || deploy.account || deploy.region ? { account, region } : undefined,
  });
  if (opts.nag ?? true) {
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app),
      new ServerlessChecks(app),
      new NIST80053R5Checks(app),
      new HIPAASecurityChecks(app),
    );
  }
  return { app, stack };
}
