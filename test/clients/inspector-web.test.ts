/**
 * The MCP Inspector's web UI (2.x), the interactive client most people try first: it is given the
 * proxy's Streamable HTTP URL, the person turns on its Connect switch in Chromium, the Inspector
 * (its backend does discovery and registration) sends the tab to the facade's consent page, the
 * person allows and signs in, and the tab comes back to the Inspector connected, tools listed.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserUser, launchChromium } from '../helpers/browser.ts';
import { startInspectorWeb } from '../helpers/inspector.ts';
import { freePort } from '../helpers/net.ts';
import { type Setup, type SetupKind, startSetup } from '../helpers/setups.ts';
import { recordTiming } from '../helpers/timings.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

describe.each(['demo', 'two-origin'] as SetupKind[])(
  'MCP Inspector web UI in Chromium, %s',
  { timeout: 180_000 },
  (kind) => {
    let setup: Setup;
    beforeAll(async () => {
      setup = await startSetup(kind);
    });
    afterAll(() => setup?.close());

    it('Connect → consent → Allow → sign in → connected, tools listed', async () => {
      const inspector = await startInspectorWeb(
        `${setup.proxyOrigin}/mcp`,
        await freePort(),
        await freePort(),
      );
      const user = await BrowserUser.open(browser);
      const page = await user.context.newPage();
      try {
        await page.goto(inspector.url);
        await page.getByText('Disconnected').waitFor();
        const started = Date.now();
        // The switch's input sits under its styled track: click it the way a pointer does.
        await page.getByRole('switch', { name: /Connect or disconnect/ }).click({ force: true });
        await page
          .getByRole('heading', { name: 'Allow access to this MCP server?' })
          .waitFor({ timeout: 30_000 });
        const consent = await page.locator('body').innerText();
        expect(consent).toContain('MCP Inspector');
        expect(consent).toMatch(/an application on this computer \(http:\/\/127\.0\.0\.1:\d+\)/);
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.getByLabel('Username').fill(setup.user.username);
        await page.getByLabel('Password').fill(setup.user.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByText('Connected', { exact: true }).waitFor({ timeout: 30_000 });
        recordTiming(`inspector-web ${kind}: Connect → connected`, Date.now() - started);
        expect(new URL(page.url()).origin).toBe(new URL(inspector.url).origin);
        await page.getByText('TOOLS/LIST').first().waitFor();
        expect(user.violations()).toEqual([]);
      } finally {
        await page.close();
        await user.close();
        await inspector.stop();
      }
    });
  },
);
