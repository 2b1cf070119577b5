/**
 * Plays the user at the facade's consent page: submits the form (hidden fields, the decision)
 * with the consent cookie, as a browser on the facade's origin would. Works over HTTP (`fetch`)
 * or straight against a core handler.
 */
export type Send = (req: Request) => Promise<Response>;
const viaFetch: Send = (req) => fetch(req, { redirect: 'manual' });

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

export function consentForm(html: string): { action: string; fields: URLSearchParams } | undefined {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) return undefined;
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.set(m[1]!, unescapeHtml(m[2]!));
  }
  return { action: unescapeHtml(action), fields };
}

/** Answer a consent page response; returns the facade's answer (302 to the IdP on allow). */
export async function answerConsent(
  page: Response,
  pageUrl: string,
  decision: 'allow' | 'deny' = 'allow',
  send: Send = viaFetch,
): Promise<Response> {
  const html = await page.text();
  const form = consentForm(html);
  if (page.status !== 200 || !form)
    throw new Error(`not a consent page (${page.status}): ${html.slice(0, 200)}`);
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  form.fields.set('decision', decision);
  const target = new URL(form.action, pageUrl);
  return send(
    new Request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: target.origin },
      body: form.fields.toString(),
    }),
  );
}

/** GET a facade /authorize URL and approve the consent page: the facade's 302 to the IdP. */
export async function authorizeWithConsent(url: string | URL, send: Send = viaFetch): Promise<Response> {
  const page = await send(new Request(url));
  if (page.status !== 200) return page; // refused before consent (4xx/5xx), or consent is off (302)
  return answerConsent(page, String(url), 'allow', send);
}
