/**
 * The CloudFront variant's origin check, shared by both functions: CloudFront adds a secret
 * header to every origin request (an origin custom header whose value CloudFormation resolves
 * from Secrets Manager), and a function answers any request without the right value with 403
 * before anything else runs (no token check, no upstream call, no IdP call). So the public
 * Function URLs cannot be used to go around CloudFront and its WAF.
 *
 * Rotation: the secret's AWSCURRENT and AWSPREVIOUS versions are both accepted, so a rotation
 * (a new AWSCURRENT, then a stack update that makes CloudFront send it) has no moment at which
 * CloudFront sends a value the functions refuse. Values are cached per instance (`ttlMs`); a
 * value that matches neither makes the instance read the secret again, at most once per
 * `refreshAfterMismatchMs`, so an instance notices a rotation as soon as CloudFront sends the
 * new value, and a flood of wrong values cannot turn into a flood of Secrets Manager calls.
 *
 * The secret is read through the AWS Parameters and Secrets Lambda Extension (a layer; an HTTP
 * call on localhost), so the proxy bundle stays free of the AWS SDK. The extension cannot be
 * called during the init phase, so the first request of an instance reads it (lazily, once).
 * The header is removed from every request before a core sees it (function-url.ts).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { sameBytes } from './constant-time.ts';
import { DependencyError, errorResponse, forbidden, toOAuthError } from './errors.ts';
import { type Logger, silentLogger } from './log.ts';

/** The origin custom header CloudFront adds (lower case, as Function URL events carry names). */
export const ORIGIN_SECRET_HEADER = 'x-mcp-auth-origin-secret';

/** Environment variable naming the secret (its ARN); set by the construct in the CloudFront variant only. */
export const ORIGIN_SECRET_ENV = 'MCP_AUTH_ORIGIN_SECRET_ARN';

/** A value shorter than this is refused as misconfigured (the stack generates 64 characters). */
export const MIN_ORIGIN_SECRET_LENGTH = 32;

/** The values CloudFront may send now: the current secret and, after a rotation, the previous one. */
export type OriginSecretSource = () => Promise<readonly string[]>;

export interface OriginGuard {
  /** `undefined` when the request came through CloudFront; else the response to send instead. */
  admit(event: APIGatewayProxyEventV2): Promise<Response | undefined>;
}

export interface OriginGuardOptions {
  /** How long read values are used before they are read again (ms). @default 300000 */
  readonly ttlMs?: number;
  /** Least time between two reads caused by an unknown value (ms). @default 10000 */
  readonly refreshAfterMismatchMs?: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

const refused = (log: Logger, reason: string): Response => {
  log.info('request refused', { status: 403, reason });
  return errorResponse(forbidden('requests must come through the distribution', reason));
};

/** Whether `got` equals one of `values`; every value is compared (no early exit). */
function matchesAny(got: string, values: readonly string[]): boolean {
  let ok = false;
  for (const v of values) ok = sameBytes(got, v) || ok;
  return ok;
}

export function createOriginGuard(source: OriginSecretSource, opts: OriginGuardOptions = {}): OriginGuard {
  const ttlMs = opts.ttlMs ?? 300_000;
  const refreshMs = opts.refreshAfterMismatchMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const log = opts.log ?? silentLogger;
  let cache: { values: readonly string[]; at: number } | undefined;
  let loading: Promise<readonly string[]> | undefined;
  let lastForced = Number.NEGATIVE_INFINITY;

  const read = async (): Promise<readonly string[]> => {
    const values = await source();
    if (!values.length || values.some((v) => v.length < MIN_ORIGIN_SECRET_LENGTH)) {
      throw new DependencyError('secrets', 'misconfigured', 'origin secret shorter than 32 characters');
    }
    cache = { values, at: now() };
    return values;
  };
  /** Current values; a failed read keeps using values read before (they were right then). */
  const values = async (force: boolean): Promise<readonly string[]> => {
    if (cache && !force && now() - cache.at < ttlMs) return cache.values;
    if (cache && force && now() - lastForced < refreshMs) return cache.values;
    if (force) lastForced = now();
    loading ??= read().finally(() => {
      loading = undefined;
    });
    try {
      return await loading;
    } catch (e) {
      log.error('origin secret unavailable', { reason: String(e) });
      if (cache) return cache.values;
      throw e;
    }
  };

  return {
    async admit(event) {
      const got = event.headers?.[ORIGIN_SECRET_HEADER];
      if (!got) return refused(log, 'no origin secret header: not a request from the distribution');
      try {
        if (matchesAny(got, await values(false))) return undefined;
        if (matchesAny(got, await values(true))) return undefined;
      } catch (e) {
        const err =
          e instanceof DependencyError ? e : new DependencyError('secrets', 'unreachable', String(e));
        return errorResponse(toOAuthError(err));
      }
      return refused(log, 'wrong origin secret header');
    },
  };
}

export interface ExtensionSourceOptions {
  /** @default PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, else 2773 */
  readonly port?: number;
  /** The extension's SSRF token. @default AWS_SESSION_TOKEN */
  readonly token?: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/** The extension's port: as the environment says when this is called, else its default. */
export function extensionPort(): number {
  return Number(process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? 2773);
}

/** One GET of the extension's HTTP API (`path` and query): its status and body. */
async function extensionGet(
  path: string,
  query: Record<string, string>,
  opts: ExtensionSourceOptions,
): Promise<{ status: number; body: string }> {
  const port = opts.port ?? extensionPort();
  const res = await (opts.fetch ?? fetch)(`http://localhost:${port}${path}?${new URLSearchParams(query)}`, {
    headers: { 'x-aws-parameters-secrets-token': opts.token ?? process.env.AWS_SESSION_TOKEN ?? '' },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 3000),
  });
  return { status: res.status, body: await res.text() };
}

/**
 * The secret's AWSCURRENT and AWSPREVIOUS values through the Parameters and Secrets extension.
 * A secret never rotated has no AWSPREVIOUS (the extension answers 4xx): only the current value.
 */
export function extensionSecretSource(
  secretId: string,
  opts: ExtensionSourceOptions = {},
): OriginSecretSource {
  const at = { ...opts, port: opts.port ?? extensionPort() }; // the port is fixed when the source is made
  const stage = async (versionStage: string, optional: boolean): Promise<string | undefined> => {
    const res = await extensionGet('/secretsmanager/get', { secretId, versionStage }, at);
    if (optional && res.status >= 400 && res.status < 500) return undefined;
    if (res.status < 200 || res.status > 299)
      throw new Error(`extension answered ${res.status} for ${versionStage}`);
    const value = (JSON.parse(res.body) as { SecretString?: unknown }).SecretString;
    if (typeof value !== 'string') throw new Error(`no SecretString in ${versionStage}`);
    return value;
  };
  return async () => {
    const [current, previous] = await Promise.all([stage('AWSCURRENT', false), stage('AWSPREVIOUS', true)]);
    return previous === undefined ? [current!] : [current!, previous];
  };
}

/**
 * An SSM parameter's value (a SecureString decrypted; a `/aws/reference/secretsmanager/<name>`
 * name reads that secret) through the same extension: the proxy secret (proxy/proxy-keys.ts).
 */
export async function extensionParameter(name: string, opts: ExtensionSourceOptions = {}): Promise<string> {
  const res = await extensionGet('/systemsmanager/parameters/get', { name, withDecryption: 'true' }, opts);
  if (res.status < 200 || res.status > 299)
    throw new Error(`extension answered ${res.status} for parameter ${name}`);
  const value = (JSON.parse(res.body) as { Parameter?: { Value?: unknown } }).Parameter?.Value;
  if (typeof value !== 'string') throw new Error(`no Parameter.Value for ${name}`);
  return value;
}

/** The guard the deployed function uses: none unless the construct named a secret. */
export function originGuardFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  log: Logger = silentLogger,
): OriginGuard | undefined {
  const secretId = env[ORIGIN_SECRET_ENV];
  return secretId ? createOriginGuard(extensionSecretSource(secretId), { log }) : undefined;
}
