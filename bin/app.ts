/**
 * CDK entry point (`npx cdk synth|deploy`).
 *
 *   npx cdk synth                                    reads ./config.yaml
 *   npx cdk synth -c config=path/to/config.yaml      another file
 *   npx cdk synth -c base_url=https://mcp.internal   override single values (dotted keys)
 *
 * The config is validated by the same `parseConfig` the functions run at cold start, so a bad
 * value fails here with the message naming the key. The cdk-nag AwsSolutions, Serverless,
 * NIST 800-53 R5 and HIPAA Security checks run on synth;
 * every acknowledgement carries its reason next to the construct it concerns (lib/).
 */
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../functions/shared/config/index.ts';
import { buildApp } from '../lib/app.ts';
import { loadRawConfig } from '../lib/config-source.ts';

try {
  // The CLI passes -c values, cdk.json and cdk.context.json through the context of an App.
  const context = new App({ autoSynth: false }).node.getAllContext() as Record<string, unknown>;
  const { app } = buildApp(loadRawConfig(context));
  app.synth();
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
