/**
 * Redirect URI policy (functions/discovery/redirect-uri.ts): each refusal with the exact text the
 * client reads, the normalised-form rule spelling by spelling, and the https host allow-list.
 */
import { describe, expect, it } from 'vitest';
import { httpsHostAllowed, redirectUriProblem } from '../../functions/discovery/redirect-uri.ts';

describe('redirectUriProblem', () => {
  const norm = (p: string) => `redirect URI scheme and host must be written in normalised form ("${p}")`;
  const loopback = 'http redirect URIs are only allowed on loopback hosts (localhost, 127.0.0.1, [::1])';
  it.each<[unknown, string | undefined]>([
    ['http://127.0.0.1:5000/cb', undefined],
    ['http://127.0.0.1', undefined],
    ['http://127.0.0.1?x=1', undefined],
    ['http://localhost:3000/cb', undefined],
    ['http://[::1]:3000/cb', undefined],
    ['https://app.example/cb', undefined],
    ['https://app.example', undefined],
    ['cursor://cb/x', undefined],
    ['cursor:/cb', undefined],
    [`https://app.example/${'p'.repeat(1980)}`, undefined],
    [5, 'redirect_uris entries must be non-empty strings'],
    ['', 'redirect_uris entries must be non-empty strings'],
    [`https://app.example/${'p'.repeat(1981)}`, 'redirect URI longer than 2000 characters'],
    ['http://127.0.0.1/a b', 'redirect URI contains whitespace, control or backslash characters'],
    ['http://127.0.0.1/a\u0085', 'redirect URI contains whitespace, control or backslash characters'],
    ['http://127.0.0.1\\@evil.example/', 'redirect URI contains whitespace, control or backslash characters'],
    ['http://127.0.0.1/cb#x', 'redirect URI must not contain a fragment'],
    ['/cb', 'redirect URI must be an absolute URI'],
    ['1http://127.0.0.1/', 'redirect URI must be an absolute URI'],
    ['http://[', 'redirect URI must be an absolute URI'],
    ['https://user@app.example/cb', 'redirect URI must not contain user information'],
    ['https://:pw@app.example/cb', 'redirect URI must not contain user information'],
    ['HTTP://127.0.0.1/cb', norm('http://127.0.0.1')],
    ['http://LOCALHOST/cb', norm('http://localhost')],
    ['http://127.1/cb', norm('http://127.0.0.1')],
    ['http://0x7f000001/cb', norm('http://127.0.0.1')],
    ['https://app.example:443/cb', norm('https://app.example')],
    ['https://App.Example?x', norm('https://app.example')],
    ['https://app.example.', undefined],
    ['Cursor:/cb', norm('cursor:')],
    ['https:app.example/cb', 'redirect URI must have a host'],
    ['http:127.0.0.1/cb', loopback],
    ['http://app.example/cb', loopback],
    ['evil://cb', 'redirect URI scheme "evil" is not allowed'],
  ])('%j → %j', (uri, want) => {
    expect(redirectUriProblem(uri, ['cursor'])).toBe(want);
  });

  it('allows https hosts only from the list when one is given', () => {
    expect(redirectUriProblem('https://evil.example/cb', [], ['app.example'])).toBe(
      'https redirect URIs must be on a host listed in discovery.allowed_redirect_hosts ("evil.example" is not)',
    );
    expect(redirectUriProblem('https://app.example/cb', [], ['app.example'])).toBeUndefined();
  });
});

describe('httpsHostAllowed', () => {
  it.each<[string, string[], boolean]>([
    ['a.vscode.dev', ['*.vscode.dev'], true],
    ['A.VSCODE.DEV', ['*.VSCode.dev'], true],
    ['.vscode.dev', ['*.vscode.dev'], false],
    ['vscode.dev', ['*.vscode.dev'], false],
    ['a-long-name.example.com', ['*.vscode.dev'], false],
    ['app.example', ['other.example', 'APP.example'], true],
    ['app.example', ['*app.example'], false],
  ])('%s with %j → %s', (host, list, want) => {
    expect(httpsHostAllowed(host, list)).toBe(want);
  });
});
