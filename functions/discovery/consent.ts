/**
 * The facade's consent step (pure): before any authorization request is sent on to the IdP, the
 * user sees which client asks for access and, above all, WHERE the authorization code will be
 * delivered (the redirect URI's origin), and approves or denies it.
 *
 * Why: registration is open (RFC 7591) and the IdP may show no consent screen of its own
 * (Cognito's managed login has none; an existing IdP session may skip the login page). Without
 * this step anyone could register a client named like a real one with an attacker's https
 * redirect URI and phish codes with a link to the facade's /authorize (MCP security best
 * practices, "Confused deputy": per-client consent with CSRF protection, no framing, `__Host-`
 * cookie, single-use state).
 *
 * Stateless CSRF protection: the page sets a random nonce in a `__Host-` cookie (`Secure`,
 * `HttpOnly`, `SameSite=Strict`, 10 minutes) and puts a token in the form. With the facade's
 * signing key (`discovery.signing_key`) the token is sealed (seal.ts): it names the hash of the
 * nonce, the hash of the exact authorization request and an expiry, so only a token the facade
 * minted for this cookie and this request is accepted — a cookie planted by a same-site page
 * (another localhost port, an upstream on a shared origin) with a value of the attacker's choosing
 * in the form is refused. Without the key it is the nonce itself (double submit). The POST must
 * come from the facade's own origin (`Origin: null` is refused: the page's `Referrer-Policy:
 * same-origin` makes browsers send the real origin); the cookie is cleared on use.
 */
import { randomBytes } from 'node:crypto';
import { sameBytes } from '../shared/constant-time.ts';
import { OAuthError } from '../shared/errors.ts';
import { cookieValue, isLoopbackHost } from '../shared/http-bits.ts';
import { digest, seal, unseal } from '../shared/seal.ts';
import { esc, htmlResponse, page } from './pages.ts';
import type { ReplayGuard } from './throttle.ts';

export const CONSENT_COOKIE = '__Host-mcp-consent';
const NONCE = /^[A-Za-z0-9_-]{43}$/;
const MAX_AGE_SECONDS = 600;

export interface ConsentView {
  /** Path the form posts to (the facade's `/authorize/consent`). */
  readonly action: string;
  /** The client id the client itself uses (the facade's id when the relay is on). */
  readonly clientId: string;
  /** The `client_name` the client registered, if the facade knows it (self-declared, unverified). */
  readonly clientName?: string;
  /**
   * For a client identified by its metadata document (cimd.ts): the host the facade fetched it
   * from over https — the one verified fact about the client.
   */
  readonly documentHost?: string;
  readonly redirectUri: string;
  readonly scope?: string;
  readonly resources: readonly string[];
  /** The validated authorization request, replayed to the IdP on approval. */
  readonly query: string;
}

export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

/** Where the code will go, in words a user can judge. */
export function describeRedirect(redirectUri: string): string {
  const u = new URL(redirectUri);
  if (isLoopbackRedirect(redirectUri)) {
    return `an application on this computer (${u.origin})`;
  }
  if (u.protocol === 'https:') return u.host;
  return `the application registered for "${u.protocol}" links`;
}

/** The form token for `nonce` and this request: sealed with the key, else the nonce itself. */
export function consentToken(
  key: Uint8Array | undefined,
  nonce: string,
  query: string,
  now = Date.now(),
): string {
  if (!key) return nonce;
  return seal(key, 'consent', {
    n: digest(nonce),
    q: digest(query),
    exp: Math.floor(now / 1000) + MAX_AGE_SECONDS,
  });
}

/** Who asks: the verified document host, else the self-declared registration name. */
function whoAsks(view: ConsentView): string {
  // The name is the client's own claim: quoted, isolated (<bdi>), never in the style of a fact.
  const name = view.clientName ? `“<bdi>${esc(view.clientName)}</bdi>”` : undefined;
  if (view.documentHost) {
    // MCP security considerations: localhost redirect URIs cannot be tied to the document's owner.
    const local = isLoopbackRedirect(view.redirectUri)
      ? '<p class="warn"><strong>Caution:</strong> access goes to a program on this computer. Any program here can name this document; continue only if you started this from that application.</p>'
      : '';
    return `<p>It is identified by its client metadata document on <strong class="host">${esc(view.documentHost)}</strong> (verified host: this server fetched the document from it over HTTPS).</p>
${name ? `<p>There it calls itself ${name}.<br><small>The name is the application's own words; only the host is verified.</small></p>` : ''}${local}`;
  }
  return name
    ? `<p>It calls itself ${name}.<br><small>The name is the one the application gave itself when it registered; it is not verified.</small></p>`
    : '<p>It did not register a name.</p>';
}

function isLoopbackRedirect(redirectUri: string): boolean {
  const u = new URL(redirectUri);
  return u.protocol === 'http:' && isLoopbackHost(u.hostname);
}

export function consentPage(view: ConsentView, nonce: string, token = nonce): Response {
  const who = whoAsks(view);
  const scopes = view.scope
    ? `<p>Permissions: ${view.scope
        .split(' ')
        .map((s) => `<code>${esc(s)}</code>`)
        .join(' ')}</p>`
    : '';
  const resources = view.resources.length
    ? `<p>Resource: ${view.resources.map((r) => `<code>${esc(r)}</code>`).join(', ')}</p>`
    : '';
  const html = page(
    'Allow access?',
    `<h1>Allow access to this MCP server?</h1>
<p>This application asks to act on your behalf on this MCP server:</p>${who}
<p>After you sign in, access will be handed to:</p><p class="where">${esc(describeRedirect(view.redirectUri))}</p>
${scopes}${resources}
<p><small>Redirect address: <code>${esc(view.redirectUri)}</code><br>Client id: <code>${esc(view.clientId)}</code></small></p>
<p>Only continue if you started this from an application you trust and the address above is
where you expect to go back to.</p>
<form method="post" action="${esc(view.action)}">
<input type="hidden" name="request" value="${esc(view.query)}">
<input type="hidden" name="csrf" value="${esc(token)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
  return htmlResponse(200, html, {
    'set-cookie': `${CONSENT_COOKIE}=${nonce}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${MAX_AGE_SECONDS}`,
  });
}

export const CLEAR_CONSENT_COOKIE = `${CONSENT_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;

export interface ConsentDecision {
  readonly allow: boolean;
  /** The original authorization request query (to be validated again by the caller). */
  readonly query: string;
  /** The sealed token's name and expiry (ms), for the single-use check; none without the key. */
  readonly sealed?: { readonly id: string; readonly expiresAtMs: number };
}

function refused(reason: string): never {
  throw new OAuthError({
    status: 403,
    code: 'access_denied',
    description: 'the consent form is invalid or has expired; start again',
    reason,
  });
}

/**
 * Check a consent POST: a same-origin form carrying the nonce of this browser's consent cookie.
 * Throws 403 `access_denied` otherwise (expired, replayed, cross-site or forged submissions).
 */
export function readConsent(
  form: URLSearchParams,
  cookieHeader: string | null,
  origin: string | null,
  selfOrigin: string,
  fetchSite: string | null = null,
  key?: Uint8Array,
  now = Date.now(),
): ConsentDecision {
  // A browser posting our page sends our origin (Referrer-Policy: same-origin); `null` comes from
  // sandboxed frames, data: URLs and the like, never from the page itself.
  if (origin !== null && origin !== selfOrigin) refused(`consent posted from origin ${origin}`);
  if (fetchSite === 'cross-site') refused('consent posted cross-site (Sec-Fetch-Site)');
  const cookie = cookieValue(cookieHeader, CONSENT_COOKIE);
  const csrf = form.get('csrf') ?? '';
  const query = form.get('request') ?? '';
  if (query.length > 16 * 1024) refused('request too large');
  if (!cookie || !NONCE.test(cookie) || !csrf) refused('consent nonce missing');
  let sealed: ConsentDecision['sealed'];
  if (key) {
    const t = unseal(key, 'consent', csrf, 4096);
    if (!t) refused('consent token not minted by this facade');
    if (typeof t.exp !== 'number' || t.exp * 1000 < now) refused('consent token expired');
    if (!sameBytes(String(t.n), digest(cookie))) refused('consent token minted for another browser');
    if (!sameBytes(String(t.q), digest(query))) refused('consent token minted for another request');
    sealed = { id: digest(csrf), expiresAtMs: t.exp * 1000 };
  } else if (!sameBytes(cookie, csrf)) {
    refused('consent nonce mismatch'); // the cookie has the nonce syntax, so an equal token has too
  }
  const decision = form.get('decision');
  if (decision !== 'allow' && decision !== 'deny') refused(`bad decision ${decision}`);
  return { allow: decision === 'allow', query, sealed };
}

/** A sealed consent token is good once per instance (the browser's cookie is cleared on use too). */
export function refuseReplayedConsent(d: ConsentDecision, used: ReplayGuard): void {
  if (d.sealed && !used.firstUse(d.sealed.id, d.sealed.expiresAtMs)) refused('consent token used before');
}

/**
 * Shown when the user denies and the facade cannot tell the client (no relay: the redirect URI
 * was not checked against the client's registration, RFC 6749 §4.1.2.1 forbids redirecting to it).
 */
export function deniedPage(): Response {
  return htmlResponse(
    403,
    page(
      'Access denied',
      '<h1>Access denied</h1><p>You did not allow the application. You can close this window.</p>',
    ),
    { 'set-cookie': CLEAR_CONSENT_COOKIE },
  );
}
