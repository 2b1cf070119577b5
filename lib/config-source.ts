/**
 * Where the CDK app gets its configuration: one YAML file (the same `config.yaml` the local
 * runner reads) plus single-value overrides from `cdk -c key=value`. Pure helpers, so the tests
 * exercise exactly what `bin/app.ts` runs.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../functions/shared/config/index.ts';
import { isObject } from '../functions/shared/encoding.ts';

export type RawConfig = Record<string, unknown>;

/**
 * A context key is a config override when it is a dotted snake_case path (`base_url`,
 * `token.audience`, `deploy.vpc.id`). CDK's own context (feature flags `@aws-cdk/...`, lookups
 * `vpc-provider:...`, `aws:cdk:...`) never matches, nor does `config` (the file path).
 */
const OVERRIDE_KEY = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

export function isOverrideKey(key: string): boolean {
  return key !== 'config' && OVERRIDE_KEY.test(key);
}

/** Read and parse a YAML config file; the error names the file. */
export function readConfigFile(path: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(
      'config',
      `file "${path}" cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); pass another with \`-c config=path\` (start from config.example.yaml)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (e) {
    throw new ConfigError(
      'config',
      `file "${path}" is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isObject(parsed)) throw new ConfigError('(root)', `must be a mapping (file "${path}")`);
  return parsed;
}

/**
 * Apply `-c a.b.c=value` overrides to a copy of `raw`. Values stay strings: `parseConfig`
 * accepts strings for integers, booleans and comma-separated lists.
 */
export function applyOverrides(raw: RawConfig, overrides: Readonly<Record<string, unknown>>): RawConfig {
  const out = structuredClone(raw);
  for (const [key, value] of Object.entries(overrides)) {
    if (!isOverrideKey(key)) continue;
    const parts = key.split('.');
    let node: RawConfig = out;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      const next = node[part];
      if (next === undefined || next === null) node[part] = {};
      else if (!isObject(next)) {
        throw new ConfigError(
          parts.slice(0, i + 1).join('.'),
          `is not a mapping, so \`-c ${key}=...\` cannot set a key inside it`,
        );
      }
      node = node[part] as RawConfig;
    }
    node[parts.at(-1)!] = value;
  }
  return out;
}

/** The config file (default `config.yaml`) with the `-c` overrides applied. */
export function loadRawConfig(
  context: Readonly<Record<string, unknown>>,
  defaultPath = 'config.yaml',
): RawConfig {
  const path = typeof context.config === 'string' && context.config ? context.config : defaultPath;
  return applyOverrides(readConfigFile(path), context);
}
