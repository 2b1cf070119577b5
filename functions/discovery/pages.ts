/**
 * The HTML pages the facade shows a person (pure): the consent page and the error page. One
 * escaper, one set of headers.
 *
 * Content-Security-Policy: nothing loads (no script, no images, inline style only), the page
 * cannot be framed, and `base-uri` is pinned. There is deliberately no `form-action`: browsers
 * apply it to every redirect that follows a form POST (the consent POST goes on to the IdP's
 * login page and, after sign-in, to the client's redirect URI on another origin), so it would
 * block the legitimate flow; where the form may post is fixed by the page itself, which carries
 * no user-controlled markup (everything is escaped).
 */
import type { OAuthError } from '../shared/errors.ts';

export const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the consent POST.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
};

const STYLE = `<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.4}
.where{font-size:1.2rem;font-weight:600}code{word-break:break-all}small{color:#555}
button{font-size:1rem;margin:.3rem .3rem 0 0;padding:.4rem 1rem}</style>`;

/** A whole page: `body` is markup the caller built with `esc` for every value. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
${STYLE}</head><body>${body}</body></html>`;
}

export function htmlResponse(status: number, html: string, headers: Record<string, string> = {}): Response {
  return new Response(html, { status, headers: { ...PAGE_HEADERS, ...headers } });
}

const sentence = (s: string) => {
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
};

/** Whether the request comes from a person's browser (a navigation), so an error should be a page. */
export function wantsHtml(req: Request): boolean {
  const accept = req.headers.get('accept') ?? '';
  return req.headers.get('sec-fetch-mode') === 'navigate' || /\btext\/html\b/i.test(accept);
}

/**
 * The error page for a browser-facing request that cannot be answered by redirecting to the
 * client (its redirect URI is not validated, or the response is not a valid one): the safe
 * description only, never the internal reason.
 */
export function errorPage(err: OAuthError, headers: Record<string, string> = {}): Response {
  const title = err.status >= 500 ? 'Sign-in is unavailable' : 'This sign-in request cannot be completed';
  const html = page(
    title,
    `<h1>${esc(title)}</h1><p>${esc(sentence(err.description))}</p>
<p>Go back to the application you came from and connect again.</p><p><small>Error: ${esc(err.code)}</small></p>`,
  );
  return htmlResponse(err.status, html, { ...headers, ...err.extraHeaders });
}
