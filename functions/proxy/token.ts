/**
 * Bearer token extraction (pure, RFC 6750 §2.1) and JWT access-token verification (JWKS I/O).
 */
import * as jose from 'jose';
import { DependencyError, OAuthError, toOAuthError } from '../shared/errors.ts';
import { discoverMetadata, metadataUrls } from '../shared/issuer-metadata.ts';

export interface Identity {
  readonly subject: string;
  readonly clientId?: string;
  readonly scopes: readonly string[];
  readonly issuer: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface TokenVerifier {
  /** Resolves the identity or throws `TokenRejected` / `VerifierUnavailable`. */
  verify(token: string, audiences: readonly string[]): Promise<Identity>;
}

/** The token is not acceptable (client's problem → 401 invalid_token). */
export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
}
/** The token could not be checked (our problem → 503, never forwarded). */
export class VerifierUnavailable extends DependencyError {
  override readonly name = 'VerifierUnavailable';
  constructor(reason: string) {
    super('jwks', 'unreachable', reason, 'token verification is temporarily unavailable');
  }
}

export type BearerResult =
  | { kind: 'token'; token: string }
  | { kind: 'missing' }
  | { kind: 'query-only' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'malformed'; reason: string };

// RFC 6750 §2.1 b64token
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export function extractBearer(authorization: string | null, query: URLSearchParams): BearerResult {
  const inQuery = query.has('access_token');
  if (authorization === null || authorization.trim() === '') {
    return inQuery ? { kind: 'query-only' } : { kind: 'missing' };
  }
  if (inQuery) return { kind: 'malformed', reason: 'token presented in both header and query string' };
  const m = /^Bearer +(\S+)\s*$/i.exec(authorization);
  if (!m) {
    // Another scheme (Basic, DPoP, ...) is not a bearer token: answer as if none was sent.
    if (!/^Bearer(\s|$)/i.test(authorization)) return { kind: 'missing' };
    return authorization.slice('Bearer'.length).trim() === ''
      ? { kind: 'malformed', reason: 'empty bearer token' }
      : { kind: 'invalid', reason: 'bearer credentials are not a single token' };
  }
  const token = m[1]!;
  // Not b64token syntax: a presented but invalid token (401 invalid_token, like any bad JWT).
  if (!B64TOKEN.test(token)) return { kind: 'invalid', reason: 'bearer token is not b64token syntax' };
  return { kind: 'token', token };
}

function scopesOf(payload: jose.JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return [];
}

/** A lone UTF-16 surrogate (possible in JSON) has no UTF-8 form: no header could carry it. */
const ILL_FORMED = /\p{Cs}/u;

export function identityOf(payload: jose.JWTPayload, clockSkewSeconds: number, now = Date.now()): Identity {
  if (typeof payload.sub !== 'string' || !payload.sub) throw new TokenRejected('token has no sub claim');
  // RFC 7519 §4.1.6: a token issued in the future (beyond the clock skew) is not one we accept.
  if (payload.iat !== undefined) {
    if (!Number.isFinite(payload.iat)) throw new TokenRejected('iat claim is not a number');
    if (payload.iat > now / 1000 + clockSkewSeconds)
      throw new TokenRejected('token issued in the future (iat)');
  }
  const cid = payload.client_id ?? payload.azp ?? payload.cid;
  for (const [name, v] of [
    ['sub', payload.sub],
    ['client_id', cid],
    ['iss', payload.iss],
  ] as const) {
    if (typeof v === 'string' && ILL_FORMED.test(v))
      throw new TokenRejected(`${name} claim is not well-formed Unicode`);
  }
  const scopes = scopesOf(payload);
  if (scopes.some((s) => ILL_FORMED.test(s)))
    throw new TokenRejected('scope claim is not well-formed Unicode');
  return {
    subject: payload.sub,
    clientId: typeof cid === 'string' ? cid : undefined,
    scopes,
    issuer: String(payload.iss),
    claims: payload,
  };
}

/**
 * JWT `typ` values accepted for access tokens. RFC 9068 §2.1 says `at+jwt`, and §4 tells resource
 * servers to refuse other types, so that ID tokens, logout tokens (`logout+jwt`), security event
 * tokens (`secevent+jwt`) and the like signed by the same issuer cannot be replayed as access
 * tokens. Many IdPs still send `JWT` or no `typ` at all, so those are accepted too (a deliberate
 * relaxation of §4). Configurable with `token.accepted_types`.
 */
export const ACCEPTED_TYP: readonly string[] = ['at+jwt', 'jwt'];

/**
 * RFC 7515 §4.1.9: `typ` is a media type, compared case-insensitively, with `application/` optional.
 * Absent is accepted; present but not a string, empty or not listed is refused.
 */
export function typAccepted(typ: unknown, accepted: readonly string[] = ACCEPTED_TYP): boolean {
  // Without `typ` a token is indistinguishable from an ID token: accepted only while plain
  // `JWT` is (the lenient default); a strict list (e.g. only at+jwt) also refuses a missing typ.
  if (typ === undefined) return accepted.includes('jwt');
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase().replace(/^application\//, '');
  return t !== '' && accepted.includes(t);
}

export interface JwtVerifierOptions {
  readonly issuer: string;
  /** `issuer` is a base URL: the exact issuer comes from its metadata (config/token.ts). */
  readonly issuerFromBaseUrl?: boolean;
  readonly jwksUri?: string;
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** Minimum seconds between JWKS re-fetches triggered by an unknown `kid`. */
  readonly jwksCooldownSeconds?: number;
  /** Accepted JWT `typ` values (without `application/`, lower case). @default ACCEPTED_TYP */
  readonly acceptedTypes?: readonly string[];
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

/**
 * The exact issuer and the JWKS URI, from the issuer's metadata where needed
 * (shared/issuer-metadata.ts): always without a configured JWKS; for an issuer taken from a base
 * URL, to learn its exact spelling (then, without a document, the base URL as written).
 */
async function resolveIssuer(
  opts: JwtVerifierOptions,
  timeoutMs: number,
  fetchImpl: typeof fetch,
): Promise<{ issuer: string; jwksUri: URL }> {
  const fromBaseUrl = opts.issuerFromBaseUrl === true;
  if (opts.jwksUri && !fromBaseUrl) return { issuer: opts.issuer, jwksUri: new URL(opts.jwksUri) };
  let unreachable = false;
  const found = await discoverMetadata(
    opts.issuer,
    metadataUrls(opts.issuer),
    async (url) => {
      try {
        const r = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
        if (r.status >= 500) unreachable = true;
        return { status: r.status, json: r.ok ? ((await r.json()) as Record<string, unknown>) : undefined };
      } catch {
        unreachable = true;
        return { status: 0 }; // unreachable or not JSON: try the next candidate
      }
    },
    opts.jwksUri ? [] : ['jwks_uri'],
    fromBaseUrl,
  );
  // An IdP that cannot be asked now is asked again by the next request; one without a document is
  // taken at its word (the base URL as written).
  if (opts.jwksUri) {
    if (!found.ok && unreachable)
      throw new VerifierUnavailable(`issuer metadata unavailable: ${found.reason}`);
    return { issuer: found.ok ? String(found.doc.issuer) : opts.issuer, jwksUri: new URL(opts.jwksUri) };
  }
  const issuer = found.ok ? String(found.doc.issuer) : opts.issuer;
  const fail = (why: string) =>
    new VerifierUnavailable(`could not discover jwks_uri for issuer ${opts.issuer}: ${why}`);
  if (!found.ok) throw fail(found.reason);
  const jwksUri = String(found.doc.jwks_uri); // a string: `required` saw to that
  if (!URL.canParse(jwksUri)) throw fail('jwks_uri is not a URL');
  return { issuer, jwksUri: new URL(jwksUri) };
}

/**
 * After a failed JWKS fetch, the next one waits the cooldown, at most 5 s (the `Retry-After` of
 * the 503 the clients get meanwhile): a failing IdP sees one attempt per hold-back and instance,
 * not one per unknown `kid` (neither jose nor aws-jwt-verify cools down after a failure), and an
 * IdP back from a blip is used again within seconds. Shared by both verifiers.
 */
export function jwksHoldBack(cooldownSeconds: number) {
  const holdBackMs = Math.min(cooldownSeconds, 5) * 1000;
  let failedAt = Number.NEGATIVE_INFINITY;
  return {
    holdBackMs,
    /** Runs `fetch`, remembering when it fails; while held back, throws without fetching. */
    async run<T>(fetch: () => Promise<T>): Promise<T> {
      const since = Date.now() - failedAt;
      if (since < holdBackMs) throw new VerifierUnavailable(`JWKS failed ${since} ms ago; not retried yet`);
      try {
        return await fetch();
      } catch (e) {
        failedAt = Date.now();
        throw e;
      }
    },
  };
}

/**
 * JWT verifier over a remote JWKS. Build it once at module scope: the key set is cached across
 * invocations and re-fetched on an unknown `kid` at most once per cooldown.
 */
// Long because it is one closure: the JWKS cache, its cooldown and in-flight fetch are state the
// verify function shares; splitting it would pass that state around for no reader's gain.
export function createJwtVerifier(opts: JwtVerifierOptions): TokenVerifier & { warm(): Promise<void> } {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const fetchImpl = opts.fetchImpl ?? fetch;
  let jwks: ReturnType<typeof jose.createRemoteJWKSet> | undefined;
  /** The exact `iss` accepted (resolveIssuer), known once the key set is. */
  let issuer = opts.issuer;
  let pending: Promise<ReturnType<typeof jose.createRemoteJWKSet>> | undefined;
  const holdBack = jwksHoldBack(opts.jwksCooldownSeconds ?? 30);

  const keySet = async () => {
    if (jwks) return jwks;
    pending ??= (async () => {
      const resolved = await resolveIssuer(opts, timeoutMs, fetchImpl);
      issuer = resolved.issuer;
      jwks = jose.createRemoteJWKSet(resolved.jwksUri, {
        cooldownDuration: (opts.jwksCooldownSeconds ?? 30) * 1000,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: timeoutMs,
        // An unreachable or failing JWKS is our outage (503), never the client's fault (401).
        // Held back after a failure (jwksHoldBack): jose would retry on every unknown `kid`.
        [jose.customFetch]: (input: string | URL | Request, init?: RequestInit) =>
          holdBack.run(async () => {
            let res: Response;
            try {
              res = await fetchImpl(input, init);
            } catch (e) {
              // A timeout too: the answer never came (a body that stalls is jose's JWKSTimeout).
              throw new VerifierUnavailable(`JWKS fetch failed: ${(e as Error).message}`);
            }
            if (res.status !== 200) throw new VerifierUnavailable(`JWKS answered HTTP ${res.status}`);
            return res;
          }),
      });
      return jwks;
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  const verify = async (token: string, audiences: readonly string[]): Promise<Identity> => {
    const keys = await keySet();
    try {
      const { payload, protectedHeader } = await jose.jwtVerify(token, keys, {
        issuer,
        audience: [...audiences],
        algorithms: [...opts.algorithms],
        clockTolerance: opts.clockSkewSeconds,
        requiredClaims: ['exp', 'iss', 'aud', 'sub'],
      });
      if (!typAccepted(protectedHeader.typ, opts.acceptedTypes ?? ACCEPTED_TYP))
        throw new TokenRejected(
          `token typ ${JSON.stringify(protectedHeader.typ)} is not an access token type`,
        );
      return identityOf(payload, opts.clockSkewSeconds);
    } catch (e) {
      if (e instanceof TokenRejected || e instanceof VerifierUnavailable) throw e;
      if (
        e instanceof jose.errors.JWKSTimeout ||
        e instanceof jose.errors.JWKSInvalid ||
        (e instanceof jose.errors.JOSEError && /JSON Web Key Set HTTP response/.test(e.message))
      ) {
        throw new VerifierUnavailable(`JWKS unavailable: ${e.message}`);
      }
      if (e instanceof jose.errors.JOSEError) throw new TokenRejected(`${e.code}: ${e.message}`);
      throw new TokenRejected(e instanceof Error ? e.message : String(e));
    }
  };

  return {
    verify,
    async warm() {
      await keySet();
    },
  };
}

/** Map verifier failures onto the one error model. */
export function tokenError(e: unknown, challenge: { resourceMetadata: string }): OAuthError {
  if (e instanceof DependencyError) return toOAuthError(e);
  const reason = e instanceof Error ? e.message : String(e);
  return new OAuthError({
    status: 401,
    code: 'invalid_token',
    description: 'the access token is invalid',
    reason,
    challenge: {
      resourceMetadata: challenge.resourceMetadata,
      includeError: true,
    },
  });
}
