/**
 * `cors`: browser access to the MCP endpoints and the facade's `/register` and `/token`.
 */
import { ConfigError } from './errors.ts';
import { open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

export const CORS = table('cors', {
  allowed_origins: {
    type: 'list',
    default: [],
  },
  allowed_methods: {
    type: 'list',
    default: ['GET', 'POST', 'DELETE', 'OPTIONS'],
  },
  allowed_headers: {
    type: 'list',
    default: [
      'Authorization',
      'Content-Type',
      'Accept',
      'Mcp-Session-Id',
      'MCP-Protocol-Version',
      'Last-Event-ID',
      'Mcp-Method',
      'Mcp-Name',
    ],
  },
  exposed_headers: {
    type: 'list',
    default: ['Mcp-Session-Id', 'MCP-Protocol-Version', 'WWW-Authenticate'],
  },
  allow_credentials: {
    type: 'bool',
    default: false,
  },
  max_age_seconds: { type: 'int', default: 600, min: 0, max: 86400 },
});

export interface CorsConfig {
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly exposedHeaders: readonly string[];
  readonly allowCredentials: boolean;
  readonly maxAgeSeconds: number;
}

export function parseCors(r: ConfigReader): CorsConfig {
  const s = open(r, CORS);
  const allowedOrigins = s.list('allowed_origins');
  for (const o of allowedOrigins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) {
      throw new ConfigError(
        'cors.allowed_origins',
        `entries must be origins like "https://app.example.com" or "*" (got "${o}")`,
      );
    }
  }
  const allowCredentials = s.bool('allow_credentials');
  if (allowCredentials && allowedOrigins.includes('*')) {
    throw new ConfigError(
      'cors.allow_credentials',
      'cannot be true when `cors.allowed_origins` contains "*"',
    );
  }
  return {
    allowedOrigins,
    allowedMethods: s.list('allowed_methods'),
    allowedHeaders: s.list('allowed_headers'),
    exposedHeaders: s.list('exposed_headers'),
    allowCredentials,
    maxAgeSeconds: s.int('max_age_seconds'),
  };
}
