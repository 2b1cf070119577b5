/**
 * CORS and Origin policy (pure). MCP endpoints answer only allowed origins; public metadata
 * documents are readable from any origin.
 */
import type { Config } from './config/index.ts';

export type CorsConfig = Config['cors'];

/** Whether a request's `Origin` may use the MCP endpoints (same origin is always allowed). */
export function originAllowed(cors: CorsConfig, origin: string | null, selfOrigin: string): boolean {
  if (origin === null) return true; // non-browser clients send no Origin
  if (origin === selfOrigin) return true;
  return cors.allowedOrigins.includes('*') || cors.allowedOrigins.includes(origin);
}

/** Headers for an allowed cross-origin response on an MCP endpoint. */
export function corsHeaders(
  cors: CorsConfig,
  origin: string | null,
  selfOrigin: string,
): Record<string, string> {
  if (origin === null || !originAllowed(cors, origin, selfOrigin)) return {};
  const wildcard = cors.allowedOrigins.includes('*') && !cors.allowCredentials;
  const h: Record<string, string> = {
    'access-control-allow-origin': wildcard ? '*' : origin,
    'access-control-expose-headers': cors.exposedHeaders.join(', '),
  };
  if (!wildcard) h.vary = 'Origin';
  if (cors.allowCredentials) h['access-control-allow-credentials'] = 'true';
  return h;
}

export function preflightHeaders(
  cors: CorsConfig,
  origin: string | null,
  selfOrigin: string,
): Record<string, string> {
  const base = corsHeaders(cors, origin, selfOrigin);
  if (!base['access-control-allow-origin']) return {};
  return {
    ...base,
    'access-control-allow-methods': cors.allowedMethods.join(', '),
    'access-control-allow-headers': cors.allowedHeaders.join(', '),
    'access-control-max-age': String(cors.maxAgeSeconds),
  };
}

/** Public, credential-less documents (metadata): any origin may read them. */
export const PUBLIC_CORS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
  'access-control-allow-headers': 'Content-Type, MCP-Protocol-Version',
  'access-control-max-age': '86400',
};
