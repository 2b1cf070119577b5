/**
 * A local HTTP server speaking the SSM JSON protocol (awsJson1_1) for `GetParameters`, so tests
 * drive the real `@aws-sdk/client-ssm` through its endpoint override. It checks what a real SSM
 * endpoint would refuse (target header, content type, SigV4 Authorization with the expected access
 * key) and records every call so tests can assert batching and caching.
 */
import type http from 'node:http';
import { serve, type TestServer } from './net.ts';

export interface SsmParam {
  readonly value: string;
  readonly type?: 'String' | 'SecureString' | 'StringList';
}

export interface SsmCall {
  readonly names: readonly string[];
  readonly withDecryption: boolean;
}

export interface SsmServer extends TestServer {
  readonly calls: SsmCall[];
  /** Requests refused before reaching GetParameters (wrong target, unsigned, ...). */
  readonly rejected: string[];
  set(name: string, param: SsmParam): void;
  delete(name: string): void;
  /** Names whose read answers AccessDeniedException (like an IAM policy without the ARN). */
  readonly denied: Set<string>;
  /** Answer the next `count` GetParameters calls with ThrottlingException (Infinity: until told otherwise). */
  throttle(count: number): void;
  /** When each GetParameters call arrived (ms, `Date.now()`), throttled ones included. */
  readonly arrivals: number[];
}

export const SSM_ACCESS_KEY = 'AKIDLOCALTEST';
export const SSM_SECRET_KEY = 'local-secret-key';
export const SSM_REGION = 'eu-west-1';

export async function startSsmServer(initial: Record<string, SsmParam> = {}): Promise<SsmServer> {
  const params = new Map(Object.entries(initial));
  const calls: SsmCall[] = [];
  const rejected: string[] = [];
  const denied = new Set<string>();
  const arrivals: number[] = [];
  let throttled = 0;

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };
  const refuse = (res: http.ServerResponse, status: number, type: string, message: string) => {
    rejected.push(`${type}: ${message}`);
    send(res, status, { __type: type, message });
  };

  const server = await serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/')
        return refuse(res, 404, 'UnknownOperationException', 'POST / only');
      if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameters') {
        return refuse(res, 400, 'UnknownOperationException', `target ${req.headers['x-amz-target']}`);
      }
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
        return refuse(res, 400, 'SerializationException', `content-type ${req.headers['content-type']}`);
      }
      const auth = req.headers.authorization ?? '';
      if (
        !auth.startsWith(`AWS4-HMAC-SHA256 Credential=${SSM_ACCESS_KEY}/`) ||
        !auth.includes(`/${SSM_REGION}/ssm/aws4_request`)
      ) {
        return refuse(res, 400, 'UnrecognizedClientException', 'missing or foreign SigV4 signature');
      }
      let body: { Names?: unknown; WithDecryption?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return refuse(res, 400, 'SerializationException', 'bad JSON');
      }
      const names = body.Names;
      if (
        !Array.isArray(names) ||
        names.length < 1 ||
        names.length > 10 ||
        !names.every((n) => typeof n === 'string')
      ) {
        return refuse(res, 400, 'ValidationException', 'Names must hold 1 to 10 strings');
      }
      const withDecryption = body.WithDecryption === true;
      calls.push({ names, withDecryption });
      arrivals.push(Date.now());
      if (throttled > 0) {
        throttled--;
        // What SSM answers over its request rate (HTTP 400, a throttling error the SDK retries).
        return send(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
      }
      if (names.some((n) => denied.has(n))) {
        return send(res, 400, {
          __type: 'AccessDeniedException',
          message: 'User is not authorized to perform: ssm:GetParameters on resource',
        });
      }
      const found = names.filter((n) => params.has(n));
      send(res, 200, {
        Parameters: found.map((n) => {
          const p = params.get(n)!;
          const type = p.type ?? 'SecureString';
          return {
            Name: n,
            Type: type,
            // Without decryption a SecureString comes back as ciphertext, as SSM does.
            Value: type === 'SecureString' && !withDecryption ? 'AQICAHg-ciphertext' : p.value,
            Version: 1,
            LastModifiedDate: 1_700_000_000,
            ARN: `arn:aws:ssm:${SSM_REGION}:123456789012:parameter${n.startsWith('/') ? '' : '/'}${n}`,
            DataType: 'text',
          };
        }),
        InvalidParameters: names.filter((n) => !params.has(n)),
      });
    });
  });

  return {
    ...server,
    calls,
    rejected,
    denied,
    arrivals,
    throttle: (count) => {
      throttled = count;
    },
    set: (n, p) => params.set(n, p),
    delete: (n) => params.delete(n),
  };
}

/** The SSM client settings (region, endpoint, credentials) that reach `server`. */
export function ssmClientConfig(server: { readonly url: string }) {
  return {
    region: SSM_REGION,
    endpoint: server.url,
    credentials: { accessKeyId: SSM_ACCESS_KEY, secretAccessKey: SSM_SECRET_KEY },
  };
}
