/**
 * The assets `cdk synth` produces (what Lambda runs): synthesize a stack of the given config with
 * bundling (esbuild, locally) and return each function's bundle directory, logical id and the
 * environment its template gives it (intrinsics resolved with the Function URLs given).
 * test/cdk/bundles.test.ts builds the same way (with cdk-nag on) inline.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../lib/app.ts';
import { evaluate } from '../cdk/helpers.ts';

export interface Bundle {
  readonly logicalId: string;
  /** The asset directory (index.mjs and its map). */
  readonly dir: string;
  readonly env: Record<string, string>;
}

export interface SynthesizedBundles {
  readonly proxy: Bundle;
  readonly discovery: Bundle;
}

type Resources = Record<
  string,
  { Type: string; Properties: { Environment: { Variables: unknown } }; Metadata: Record<string, string> }
>;

/** Synthesize `raw` (a config file's content) and find both functions' bundles. */
export function synthBundles(
  raw: Record<string, unknown>,
  urls: { readonly proxy: string; readonly discovery: string },
): SynthesizedBundles {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-bundle-'));
  // cdk-nag does not change the bundles (guards.test.ts runs the packs); without it synth is ~3x faster.
  const { app, stack } = buildApp(
    raw,
    { outdir, context: { 'aws:cdk:enable-asset-metadata': true } },
    { nag: false },
  );
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as { Resources: Resources };
  const attrs = {
    McpAuthProxyProxyFunctionFunctionUrl: urls.proxy,
    McpAuthProxyDiscoveryFunctionFunctionUrl: urls.discovery,
  };
  const find = (prefix: string): Bundle => {
    const [logicalId, r] = Object.entries(template.Resources).find(
      ([id, x]) => id.startsWith(prefix) && x.Type === 'AWS::Lambda::Function',
    )!;
    return {
      logicalId,
      dir: join(assembly.directory, r.Metadata['aws:asset:path']!),
      env: evaluate(r.Properties.Environment.Variables, attrs) as Record<string, string>,
    };
  };
  return { proxy: find('McpAuthProxyProxyFunction'), discovery: find('McpAuthProxyDiscoveryFunction') };
}
