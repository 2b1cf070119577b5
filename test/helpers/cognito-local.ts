/**
 * Starts `cognito-local` (npm package: a local endpoint speaking the Cognito JSON protocol, with a
 * minimal hosted UI at /oauth2/authorize and /oauth2/token) as a child process on 127.0.0.1 and a
 * free port, in a throw-away working directory (it keeps its state in `./.cognito` of its cwd and
 * takes its port and host from PORT/HOST). The user pool is seeded as a file named after a
 * real-looking pool id, since its own CreateUserPool makes `local_*` ids our config refuses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { freePort, sleep } from './net.ts';

export const COGNITO_REGION = 'eu-west-1';
export const COGNITO_CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret-key' };

export interface CognitoLocal {
  /** Base URL: the API endpoint, the hosted-UI domain and the token issuer's prefix. */
  readonly url: string;
  readonly userPoolId: string;
  readonly client: CognitoIdentityProviderClient;
  /** Lines cognito-local printed (for debugging a failing test). */
  readonly output: string[];
  addUser(email: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export async function startCognitoLocal(userPoolId = `${COGNITO_REGION}_McpTestPool`): Promise<CognitoLocal> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cognito-local-'));
  await mkdir(path.join(dir, '.cognito', 'db'), { recursive: true });
  await writeFile(
    path.join(dir, '.cognito', 'db', `${userPoolId}.json`),
    JSON.stringify({ Options: { Id: userPoolId }, Users: {} }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const bin = createRequire(import.meta.url).resolve('cognito-local/lib/bin/start.js');
  const child: ChildProcess = spawn(process.execPath, [bin], {
    cwd: dir,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`cognito-local exited:\n${output.join('')}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`cognito-local did not start:\n${output.join('')}`);
    }
    await sleep(50);
  }

  const client = new CognitoIdentityProviderClient({
    region: COGNITO_REGION,
    endpoint: url,
    credentials: COGNITO_CREDENTIALS,
  });
  return {
    url,
    userPoolId,
    client,
    output,
    async addUser(email, password) {
      await client.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: email,
          TemporaryPassword: `${password}-tmp`,
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
          ],
        }),
      );
      await client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: userPoolId,
          Username: email,
          Password: password,
          Permanent: true,
        }),
      );
    },
    async close() {
      client.destroy();
      if (!exited) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(3000)]);
        if (!exited) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
