/**
 * Helpers for the CDK tests: build the real app (same `buildApp` as bin/app.ts), with or without
 * esbuild bundling, and evaluate the few CloudFormation intrinsics our environment values use.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { type BuiltApp, buildApp } from '../../lib/app.ts';
import type { RawConfig } from '../../lib/config-source.ts';

export const BASE: RawConfig = {
  provider: 'oidc',
  base_url: 'https://mcp.internal.example.com',
  default: {
    base_url: 'https://idp.example.com/',
    client_id: 'proxy-client',
    client_secret_ssm_parameter: '/mcp-auth/oidc/client-secret',
  },
};

/** Build without bundling (templates only): fast, no esbuild. */
export function build(raw: RawConfig, opts: { nag?: boolean } = {}): BuiltApp {
  return buildApp(
    raw,
    { outdir: mkdtempSync(join(tmpdir(), 'cdk-test-')), context: { 'aws:cdk:bundling-stacks': [] } },
    opts,
  );
}

export function template(raw: RawConfig): Template {
  return Template.fromStack(build(raw, { nag: false }).stack);
}

/** The resource of the given type whose logical id starts with `prefix`. */
export function resource(
  t: Template,
  type: string,
  prefix: string,
): { id: string; props: Record<string, unknown> } {
  const all = t.findResources(type);
  const hits = Object.entries(all).filter(([id]) => id.startsWith(prefix));
  if (hits.length !== 1)
    throw new Error(`expected one ${type} ${prefix}*, found ${hits.map(([k]) => k).join(', ') || 'none'}`);
  const [id, r] = hits[0]!;
  return { id, props: (r as { Properties: Record<string, unknown> }).Properties };
}

type Cfn = unknown;

/** Evaluate Fn::Join / Fn::Select / Fn::Split / Fn::GetAtt / Ref with the given attribute values. */
export function evaluate(v: Cfn, attrs: Record<string, string>): unknown {
  if (Array.isArray(v)) return v.map((x) => evaluate(x, attrs));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const [k] = Object.keys(o);
    if (Object.keys(o).length === 1 && k) {
      const arg = o[k];
      if (k === 'Fn::Join') {
        const [sep, parts] = arg as [string, Cfn[]];
        return (evaluate(parts, attrs) as string[]).join(sep);
      }
      if (k === 'Fn::Select') {
        const [i, list] = arg as [number, Cfn];
        return (evaluate(list, attrs) as string[])[Number(i)];
      }
      if (k === 'Fn::Split') {
        const [sep, s] = arg as [string, Cfn];
        return (evaluate(s, attrs) as string).split(sep);
      }
      if (k === 'Fn::GetAtt' || k === 'Ref') {
        const key = Array.isArray(arg) ? arg.join('.') : String(arg);
        const hit = Object.entries(attrs).find(([p]) => key.startsWith(p));
        if (!hit) throw new Error(`no value for ${k} ${key}`);
        return hit[1];
      }
    }
    return Object.fromEntries(Object.entries(o).map(([kk, vv]) => [kk, evaluate(vv, attrs)]));
  }
  return v;
}

/**
 * The SSM name of the signing key a stack generates when the config names none (lib/signing-key.ts):
 * the stack `McpAuthProxy`, the construct `McpAuthProxy`.
 */
export const GENERATED_KEY_PARAMETER =
  '/aws/reference/secretsmanager/mcp-auth-proxy/McpAuthProxy/McpAuthProxy60EB0D22/signing-key';

/** The SSM name of the proxy secret a stack generates when the config names none (lib/proxy-secret.ts). */
export const GENERATED_PROXY_SECRET_PARAMETER =
  '/aws/reference/secretsmanager/mcp-auth-proxy/McpAuthProxy/McpAuthProxy60EB0D22/proxy-secret';
