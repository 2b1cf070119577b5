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
 * Stateless CSRF protection (double-submit): the page sets a random nonce in a
 * `__Host-` cookie (`Secure`, `HttpOnly`, `SameSite=Strict`, 10 minutes) and puts the same
 * nonce in the form. The POST must carry both, equal; the cookie is cleared on use, so a form
 * can be submitted once. A cross-site page can neither read nor send the cookie.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { OAuthError } from '../shared/errors.ts';
import { cookieValue, isLoopbackHost } from '../shared/http-bits.ts';

export const CONSENT_COOKIE = '__Host-mcp-consent';
const NONCE = /^[A-Za-z0-9_-]{43}$/;
const MAX_AGE_SECONDS = 600;

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface ConsentView {
  /** Path the form posts to (the facade's `/authorize/consent`). */
  readonly action: string;
  readonly clientId: string;
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
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) {
    return `an application on this computer (${u.origin})`;
  }
  if (u.protocol === 'https:') return u.host;
  return `the application registered for "${u.protocol}" links`;
}

export function consentPage(view: ConsentView, nonce: string): Response {
  const resources = view.resources.length
    ? `<p>Resource: ${view.resources.map((r) => `<code>${esc(r)}</code>`).join(', ')}</p>`
    : '';
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Allow access?</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
.where{font-size:1.2rem;font-weight:600}button{font-size:1rem;margin:.3rem .3rem 0 0;padding:.4rem 1rem}</style>
</head><body><h1>Allow access to this MCP server?</h1>
<p>An application is asking to act on your behalf on this MCP server.</p>
<p>After you sign in, access will be handed to:</p><p class="where">${esc(describeRedirect(view.redirectUri))}</p>
<p>Redirect address: <code>${esc(view.redirectUri)}</code><br>Client id: <code>${esc(view.clientId)}</code></p>
${view.scope ? `<p>Permissions: <code>${esc(view.scope)}</code></p>` : ''}${resources}
<p>Only continue if you started this from an application you trust and the address above is
where you expect to go back to.</p>
<form method="post" action="${esc(view.action)}">
<input type="hidden" name="request" value="${esc(view.query)}">
<input type="hidden" name="csrf" value="${esc(nonce)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>`;
  return new Response(html, {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'x-frame-options': 'DENY',
      // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the POST.
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff',
      // No form-action: browsers apply it to every redirect after the POST (IdP login pages,
      // then the client's redirect URI), which would block the legitimate flow.
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
      'set-cookie': `${CONSENT_COOKIE}=${nonce}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${MAX_AGE_SECONDS}`,
    },
  });
}

export const CLEAR_CONSENT_COOKIE = `${CONSENT_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;

export interface ConsentDecision {
  readonly allow: boolean;
  /** The original authorization request query (to be validated again by the caller). */
  readonly query: string;
}

function refused(reason: string): never {
  throw new OAuthError(
    403,
    'access_denied',
    'the consent form is invalid or has expired; start again',
    reason,
  );
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
): ConsentDecision {
  // `Origin: null` (privacy-sensitive contexts) carries no information: the cookie check decides.
  if (origin !== null && origin !== 'null' && origin !== selfOrigin)
    refused(`consent posted from origin ${origin}`);
  if (fetchSite === 'cross-site') refused('consent posted cross-site (Sec-Fetch-Site)');
  const cookie = cookieValue(cookieHeader, CONSENT_COOKIE);
  const csrf = form.get('csrf') ?? '';
  if (!cookie || !NONCE.test(cookie) || !NONCE.test(csrf)) refused('consent nonce missing');
  if (!timingSafeEqual(Buffer.from(cookie), Buffer.from(csrf))) refused('consent nonce mismatch');
  const decision = form.get('decision');
  if (decision !== 'allow' && decision !== 'deny') refused(`bad decision ${decision}`);
  const query = form.get('request') ?? '';
  if (query.length > 16 * 1024) refused('request too large');
  return { allow: decision === 'allow', query };
}

/** Shown when the user denies: no redirect (the redirect URI was never verified by us). */
export function deniedPage(): Response {
  return new Response(
    '<!doctype html><html><head><meta charset="utf-8"><title>Access denied</title></head><body><h1>Access denied</h1><p>You did not allow the application. You can close this window.</p></body></html>',
    {
      status: 403,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'set-cookie': CLEAR_CONSENT_COOKIE,
      },
    },
  );
}
