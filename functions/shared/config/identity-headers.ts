/**
 * `identity_header_prefix`: the identity headers sent upstream (`<prefix>subject`, ...).
 */
import { ConfigError } from './errors.ts';
import { open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

export const IDENTITY_HEADERS = table('', {
  identity_header_prefix: {
    type: 'string',
    default: 'x-mcp-auth-',
  },
});

export function parseIdentityHeaderPrefix(r: ConfigReader): string {
  const prefix = open(r, IDENTITY_HEADERS).str('identity_header_prefix').toLowerCase();
  if (!/^x-[a-z0-9-]+-$/.test(prefix)) {
    throw new ConfigError('identity_header_prefix', `must look like "x-something-" (got "${prefix}")`);
  }
  return prefix;
}
