/**
 * An https server on 127.0.0.1 that hosts Client ID Metadata Documents for tests, with a
 * throwaway self-signed certificate (openssl) for `localhost` and 127.0.0.1. The facade reaches it
 * only through the test seams (`documentFetch: { allowLoopback: true, ca }`), never by config.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type DocumentRoute = (req: http.IncomingMessage, res: http.ServerResponse, origin: string) => void;

export interface DocumentHost {
  /** `https://localhost:<port>` */
  readonly origin: string;
  /** The certificate to trust (the fetch seam's `ca`). */
  readonly ca: string;
  /** Requests per path so far. */
  hits(path?: string): number;
  close(): Promise<void>;
}

function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cimd-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,DNS:docs.test,IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startDocumentHost(routes: Record<string, DocumentRoute>): Promise<DocumentHost> {
  const { key, cert } = selfSigned();
  const counts = new Map<string, number>();
  let origin = '';
  const server = https.createServer({ key, cert }, (req, res) => {
    const p = new URL(req.url ?? '/', origin).pathname;
    counts.set(p, (counts.get(p) ?? 0) + 1);
    const route = routes[p];
    if (route) route(req, res, origin);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    ca: cert,
    hits: (p?: string) => (p ? (counts.get(p) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0)),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A route answering `doc` as JSON with `headers`. */
export const json =
  (doc: (origin: string) => unknown, headers: Record<string, string> = {}): DocumentRoute =>
  (_req, res, origin) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(doc(origin)));
  };
