/**
 * Secrets for the discovery function: SSM Parameter Store (SecureString, decrypted) or, for local
 * runs only, inline values from the config.
 *
 * Every SSM-backed secret the config names is fetched in one `GetParameters` batch (at most 10
 * names per call, the API's limit) at cold start via `preload`, then cached with a TTL. Any
 * parameter that is missing, invalid, denied or not a SecureString fails the whole load: the function never runs
 * half-configured, and a log line names each parameter that failed. Values are never logged.
 *
 * I/O edge: this is the only module that imports the SSM client, and only the discovery function
 * imports it (the proxy bundle stays free of the AWS SDK).
 */
import {
  GetParametersCommand,
  type GetParametersCommandOutput,
  SSMClient,
  type SSMClientConfig,
} from '@aws-sdk/client-ssm';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { Config, SecretRef } from '../shared/config/index.ts';
import { DependencyError } from '../shared/errors.ts';
import { type Logger, silentLogger } from '../shared/log.ts';

export interface SecretResolver {
  /** The secret's value; throws `SecretUnavailable` (fail closed) when it cannot be read. */
  resolve(ref: SecretRef): Promise<string>;
}

/** A secret could not be read (a 503 for the client). The message names the parameter(s), never a value. */
export class SecretUnavailable extends DependencyError {
  override readonly name = 'SecretUnavailable';
  constructor(
    message: string,
    readonly parameters: readonly string[],
    /** `misconfigured` when retrying cannot help (no parameter, or an inline value where none may be). */
    failure: 'unreachable' | 'misconfigured' = 'unreachable',
  ) {
    super('secrets', failure, message, 'the service is not available');
  }
}

export interface SecretResolverOptions {
  /** An SSM client, or the options to build one (region, endpoint override, credentials). */
  readonly ssm?: SSMClient | SSMClientConfig;
  /** Seconds a fetched value is reused before it is read again (default 300). */
  readonly ttlSeconds?: number;
  /**
   * Whether inline `value` secrets are accepted. Default: only outside Lambda (local runs), since
   * inline secrets would sit in the function's environment in clear text.
   */
  readonly allowInline?: boolean;
  readonly log?: Logger;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

export interface CachingSecretResolver extends SecretResolver {
  /** Fetch every SSM-backed ref now (cold start); rejects if any one cannot be read. */
  preload(refs: readonly SecretRef[]): Promise<void>;
}

/** GetParameters accepts at most 10 names per call. */
const BATCH = 10;

/**
 * Attempts of one GetParameters call: 1 + 3 retries. The SDK's standard mode decides what is
 * retried (throttling, e.g. a burst of cold starts over SSM's GetParameters rate, and transient
 * network errors; never AccessDenied or validation errors) and keeps its retry quota; the delays
 * are ours (ssmRetryDelayMs). Then the load fails closed (a 503, retried by the next request).
 */
export const SSM_MAX_ATTEMPTS = 4;
const SSM_RETRY_BASE_MS = 200;

/**
 * The wait before retry `n` (1, 2, 3): equal jitter over a doubling window, 200–400, 400–800,
 * 800–1600 ms (≤ 2.8 s in all). Unlike the SDK's full jitter (0 … 1 s · 2ⁿ⁻¹ for throttling), each
 * wait is at least as long as the one before — backing off for sure — while instances that cold
 * start together still spread their retries.
 */
export function ssmRetryDelayMs(n: number, random: number = Math.random()): number {
  const window = SSM_RETRY_BASE_MS * 2 ** (n - 1);
  return Math.floor(window * (1 + random));
}

/** Every secret the config references (for `preload` at cold start). */
export function secretRefsOf(config: Config): SecretRef[] {
  const refs: SecretRef[] = [];
  if (config.provider === 'asgardeo' && config.asgardeo) refs.push(config.asgardeo.clientSecret);
  if (config.provider === 'oidc' && config.oidc?.clientSecret) refs.push(config.oidc.clientSecret);
  if (config.provider === 'oidc' && config.oidc?.registrationToken) refs.push(config.oidc.registrationToken);
  if (config.provider === 'embedded' && config.embedded?.registrationToken)
    refs.push(config.embedded.registrationToken);
  if (config.discovery.signingKey) refs.push(config.discovery.signingKey);
  // `addBodyParams` values from SSM (`value_ssm_parameter`).
  for (const rule of Object.values(config.oidc?.path ?? {}))
    for (const p of rule.addBodyParams) if (p.secret) refs.push(p.secret);
  if (config.discovery.upstreamClient) refs.push(config.discovery.upstreamClient.clientSecret);
  const documentSecret = config.discovery.clientIdMetadataDocuments?.idpClientSecret;
  if (documentSecret) refs.push(documentSecret);
  return refs;
}

/**
 * One closure (hence its length): the cache, the in-flight loads and the SSM client are shared by
 * `preload` and `resolve`.
 */
export function createSecretResolver(opts: SecretResolverOptions = {}): CachingSecretResolver {
  const ttlMs = (opts.ttlSeconds ?? 300) * 1000;
  const now = opts.now ?? Date.now;
  const log = opts.log ?? silentLogger;
  const allowInline = opts.allowInline ?? process.env.AWS_LAMBDA_FUNCTION_NAME === undefined;
  const cache = new Map<string, { value: string; expiresAt: number }>();
  const inflight = new Map<string, Promise<void>>();
  let client: SSMClient | undefined;

  const ssm = (): SSMClient => {
    if (client) return client;
    client =
      opts.ssm instanceof SSMClient
        ? opts.ssm
        : new SSMClient({
            retryStrategy: new ConfiguredRetryStrategy(opts.ssm?.maxAttempts ?? SSM_MAX_ATTEMPTS, (n) =>
              ssmRetryDelayMs(n),
            ),
            requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
            ...opts.ssm,
          });
    return client;
  };

  const fail = (
    names: readonly string[],
    reason: string,
    detail?: string,
    failure?: 'misconfigured',
  ): SecretUnavailable => {
    for (const parameter of names) log.error('secret unavailable', { parameter, reason, detail });
    return new SecretUnavailable(
      `SSM parameter(s) ${names.join(', ')} unavailable: ${reason}`,
      names,
      failure,
    );
  };

  /** One GetParameters round trip for ≤ 10 names; all-or-nothing. */
  const fetchBatch = async (names: readonly string[]): Promise<void> => {
    let out: GetParametersCommandOutput;
    try {
      out = await ssm().send(new GetParametersCommand({ Names: [...names], WithDecryption: true }));
    } catch (e) {
      const err = e as { name?: string; message?: string };
      // AccessDeniedException, KMS decryption failures, throttling, network: never half-configured.
      throw fail(names, err.name ?? 'error', err.message);
    }
    const invalid = out.InvalidParameters ?? [];
    if (invalid.length) throw fail(invalid, 'not found or not accessible (InvalidParameters)');
    const got = new Map((out.Parameters ?? []).map((p) => [p.Name, p]));
    const missing = names.filter((n) => typeof got.get(n)?.Value !== 'string' || got.get(n)?.Value === '');
    if (missing.length) throw fail(missing, 'no value returned');
    // A String or StringList parameter is stored without KMS encryption: refused as a secret,
    // naming the parameter (retrying cannot help, so it is a misconfiguration).
    const plain = names.filter((n) => got.get(n)!.Type !== 'SecureString');
    if (plain.length) {
      const types = plain.map((n) => `${n}: ${got.get(n)!.Type}`).join(', ');
      throw fail(
        plain,
        'not a SecureString',
        `store it as type SecureString (got ${types})`,
        'misconfigured',
      );
    }
    const expiresAt = now() + ttlMs;
    for (const n of names) cache.set(n, { value: got.get(n)!.Value!, expiresAt });
  };

  /** Load `names` (deduplicating concurrent loads of the same name). */
  const load = async (names: readonly string[]): Promise<void> => {
    const waits: Promise<void>[] = [];
    const todo: string[] = [];
    for (const n of new Set(names)) {
      const p = inflight.get(n);
      if (p) waits.push(p);
      else todo.push(n);
    }
    for (let i = 0; i < todo.length; i += BATCH) {
      const batch = todo.slice(i, i + BATCH);
      const p = fetchBatch(batch).finally(() => {
        for (const n of batch) inflight.delete(n);
      });
      for (const n of batch) inflight.set(n, p);
      waits.push(p);
    }
    // Wait for all batches so no rejection goes unobserved, then fail on the first failure.
    const results = await Promise.allSettled(waits);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
  };

  const fresh = (name: string) => {
    const c = cache.get(name);
    return c && c.expiresAt > now() ? c.value : undefined;
  };

  const checkRef = (ref: SecretRef): string | undefined => {
    if (ref.ssmParameter !== undefined) return ref.ssmParameter;
    if (ref.value !== undefined) {
      if (!allowInline) {
        log.error('inline secret refused', {
          reason: 'inline secrets are for local runs; use an SSM parameter',
        });
        throw new SecretUnavailable(
          'inline secrets are not allowed here; configure an SSM parameter',
          [],
          'misconfigured',
        );
      }
      return undefined;
    }
    throw new SecretUnavailable(
      'secret reference has neither a value nor an SSM parameter',
      [],
      'misconfigured',
    );
  };

  return {
    async preload(refs) {
      const names = refs.map(checkRef).filter((n): n is string => n !== undefined);
      const stale = names.filter((n) => fresh(n) === undefined);
      if (stale.length) await load(stale);
    },
    async resolve(ref) {
      const name = checkRef(ref);
      if (name === undefined) return ref.value!;
      const hit = fresh(name);
      if (hit !== undefined) return hit;
      await load([name]);
      const v = fresh(name);
      // Only reachable with a zero TTL: the value just read is still the right one to use.
      return v ?? cache.get(name)!.value;
    },
  };
}
