/**
 * A deployed config carries no secret in clear text: the functions' environment (and the
 * CloudFormation template it is written into) is not a secret store. Checked at synth
 * (lib/deployed-config.ts) and at each function's cold start (`configFromEnv`); the local runner
 * accepts inline secrets.
 *
 * Secrets are the `secret` keys of the tables (`client_secret`, `signing_key`, ...) and the
 * `addQueryParams` / `addBodyParams` entries whose name looks like one (`api_key`, `password`,
 * `client_secret`, `token`, ...): their value comes from `value_ssm_parameter`, or the entry says
 * `public: true`.
 */
import { isObject } from '../encoding.ts';
import { ConfigError } from './errors.ts';
import { keyTables } from './keys.ts';

/** Names of the `secret` keys of the tables (`client_secret`, `signing_key`, `registration_token`). */
const secretKeys = (): Set<string> =>
  new Set(
    keyTables().flatMap((t) =>
      Object.entries(t.keys)
        .filter(([, d]) => d.type === 'secret')
        .map(([k]) => k),
    ),
  );
/** Name words that make a parameter look like a secret, anywhere in a word. */
const SECRET_STEMS = ['secret', 'passw', 'pwd', 'token', 'apikey', 'credential', 'assertion', 'authkey'];
/** Name words that make a parameter look like a secret, as a whole word. */
const SECRET_WORDS = ['key', 'auth', 'authorization', 'pass', 'private', 'pin', 'otp', 'cookie', 'session'];

/** `api_key`, `X-Api-Key`, `clientSecret`, `password`, `id_token_hint`, ...; not `audience`, `prompt`. */
export function looksSecret(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w) => SECRET_WORDS.includes(w) || SECRET_STEMS.some((s) => w.includes(s)));
}

/** One `{name, value}` entry of a params list: refused when its inline value looks like a secret. */
function checkParam(key: string, item: Record<string, unknown>): void {
  const { name, value } = item;
  if (typeof name !== 'string' || !looksSecret(name) || item.public === true) return;
  if (value === undefined || value === null || value === '') return;
  const query = /\.addQueryParams\[\d+\]$/.test(key);
  throw new ConfigError(
    `${key}.value`,
    query
      ? `is inline and the name "${name}" looks like a secret: query parameters go to the user's browser in the redirect to the IdP, so they cannot carry one. If the value is not a secret, add \`public: true\` to the entry`
      : `is inline and the name "${name}" looks like a secret: the functions' environment is not a secret store. Store it as an SSM SecureString and set \`value_ssm_parameter\` to its name instead, or add \`public: true\` to the entry if it is not a secret`,
  );
}

/** Throws a `ConfigError` naming the first inline secret of a config about to be deployed. */
export function rejectInlineSecrets(raw: Record<string, unknown>): void {
  walk(raw, '', secretKeys());
}

function walk(raw: Record<string, unknown>, prefix: string, secret: Set<string>): void {
  for (const [k, v] of Object.entries(raw)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v)) walk(v, key, secret);
    else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (!isObject(item)) return;
        checkParam(`${key}[${i}]`, item);
        walk(item, `${key}[${i}]`, secret);
      });
    } else if (secret.has(k) && v !== undefined && v !== null && v !== '') {
      throw new ConfigError(
        key,
        `must not be inline in a deployed config: store it as an SSM SecureString and set \`${key}_ssm_parameter\` to its name`,
      );
    }
  }
}
