/**
 * A real browser for the tests: Debian's Chromium driven by playwright-core. Never skipped: if
 * Chromium is missing the tests fail with the command that installs it (`.ci/run` installs it).
 *
 * `BrowserUser` plays the person at every page we serve — the facade's consent page, the demo
 * IdP's sign-in page — by clicking and typing, and fails on any Content-Security-Policy violation
 * the browser reports (the kind of break that `fetch`-posted forms cannot see).
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is needed for the browser tests and was not found at ${CHROMIUM_PATH}. ` +
        'Install it with `sudo apt-get install -y chromium` (Debian/Ubuntu), or point CHROMIUM_PATH at a ' +
        'Chromium/Chrome binary. The browser tests are never skipped.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface SignInOptions {
  readonly username: string;
  readonly password: string;
  /** The decision at the facade's consent page. @default 'allow' */
  readonly decision?: 'allow' | 'deny';
  /** Passwords tried before `password` (each must be refused by the IdP's sign-in page). */
  readonly wrongPasswords?: readonly string[];
  /** The page is done once the browser reaches a URL starting with this (the client's redirect URI). */
  readonly doneAt: string | RegExp;
  /** Checks on the consent page before deciding (what the person reads). */
  readonly onConsent?: (page: Page) => Promise<void>;
}

export interface SignInResult {
  /** The URL the browser ended at (the client's redirect URI with code/error, state, iss). */
  readonly landed: URL;
  readonly ms: number;
  /** Text of the consent page the person saw. */
  readonly consentText: string;
}

/** A person with a fresh browser profile (cookies and IdP session of their own). */
export class BrowserUser {
  private constructor(
    readonly context: BrowserContext,
    private readonly problems: string[],
  ) {}

  static async open(browser: Browser): Promise<BrowserUser> {
    const context = await browser.newContext();
    const problems: string[] = [];
    context.on('console', (m) => {
      if (/Content Security Policy|Refused to|blocked/i.test(m.text())) problems.push(m.text());
    });
    return new BrowserUser(context, problems);
  }

  /** Console messages that show the browser refused something on our pages. */
  violations(): readonly string[] {
    return this.problems;
  }

  /**
   * Open an authorization URL and do what a person does: read the consent page and click
   * Allow (or Deny), then, on the IdP's page, type the username and password and sign in.
   */
  async signIn(authorizationUrl: string | URL, o: SignInOptions): Promise<SignInResult> {
    const started = Date.now();
    const page = await this.context.newPage();
    const done = (u: URL) =>
      typeof o.doneAt === 'string' ? u.href.startsWith(o.doneAt) : o.doneAt.test(u.href);
    try {
      let landedAt: URL | undefined;
      page.on('framenavigated', (f) => {
        if (f === page.mainFrame() && !landedAt && done(new URL(f.url()))) landedAt = new URL(f.url());
      });
      await page.goto(String(authorizationUrl));
      await page.getByRole('heading', { name: 'Allow access to this MCP server?' }).waitFor();
      const consentText = await page.locator('body').innerText();
      await o.onConsent?.(page);
      await page.getByRole('button', { name: o.decision === 'deny' ? 'Deny' : 'Allow' }).click();
      if (o.decision !== 'deny') {
        for (const wrong of [...(o.wrongPasswords ?? []), o.password]) {
          await page.getByRole('heading', { name: 'Sign in' }).waitFor();
          await page.getByLabel('Username').fill(o.username);
          await page.getByLabel('Password').fill(wrong);
          await page.getByRole('button', { name: 'Sign in' }).click();
          if (wrong !== o.password) await page.getByRole('alert').waitFor();
        }
      }
      const deadline = Date.now() + 15_000;
      while (!landedAt) {
        if (Date.now() > deadline) {
          const text = await page
            .locator('body')
            .innerText()
            .catch(() => '');
          throw new Error(
            `the browser did not reach ${o.doneAt}; it is at ${page.url()}:\n${text.slice(0, 500)}` +
              (this.problems.length ? `\nbrowser console:\n${this.problems.join('\n')}` : ''),
          );
        }
        await page.waitForTimeout(25);
      }
      if (this.problems.length) throw new Error(`browser console:\n${this.problems.join('\n')}`);
      return { landed: landedAt, ms: Date.now() - started, consentText };
    } finally {
      // Let the client's redirect page finish loading first: closing a page whose last response
      // is still arriving (mcp-remote answers a refusal and exits) can stall Chromium for a minute.
      await page.waitForLoadState('load', { timeout: 5000 }).catch(() => {});
      await page.close();
    }
  }

  close(): Promise<void> {
    return this.context.close();
  }
}
