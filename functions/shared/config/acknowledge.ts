/**
 * `acknowledge`: settings that open the deployment wide, which synth refuses unless the config
 * says it means them. Each acknowledged one becomes a CDK warning; the functions do not read it.
 */
import { ConfigError } from './errors.ts';
import { choiceMessage, open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';
import type { Config } from './types.ts';

/** A setting that needs an `acknowledge` entry to deploy. */
export interface RiskySetting {
  /** Its `acknowledge` entry. */
  readonly id: string;
  /** The config key at fault. */
  readonly key: string;
  /** What is set, after the key (`contains "*"`). */
  readonly setting: string;
  /** What it allows. */
  readonly risk: string;
}

const RISKS: readonly (RiskySetting & { readonly present: (c: Config) => boolean })[] = [
  {
    id: 'wildcard_redirect_hosts_without_consent',
    key: 'discovery.allowed_redirect_hosts',
    setting: 'contains "*" while `discovery.consent` is "off"',
    risk: 'anyone can register a client whose redirect URI is their own https server, and authorization codes are delivered there without the user ever being shown where',
    present: (c) => c.discovery.allowedRedirectHosts.includes('*') && c.discovery.consent === 'off',
  },
  {
    id: 'wildcard_cors_origins',
    key: 'cors.allowed_origins',
    setting: 'contains "*"',
    risk: "scripts of every web site may call the MCP endpoints and the facade from a visitor's browser",
    present: (c) => c.cors.allowedOrigins.includes('*'),
  },
];

export const ACKNOWLEDGE = table('', {
  acknowledge: { type: 'list', default: [] },
});

export function parseAcknowledge(r: ConfigReader): readonly string[] {
  const ids = RISKS.map((x) => x.id);
  const list = open(r, ACKNOWLEDGE).list('acknowledge');
  for (const id of list) {
    if (!ids.includes(id)) throw new ConfigError('acknowledge', `entries ${choiceMessage(ids, id)}`);
  }
  return list;
}

/** The risky settings `config` has, acknowledged or not. */
export function riskySettings(config: Config): RiskySetting[] {
  return RISKS.filter((x) => x.present(config)).map(({ id, key, setting, risk }) => ({
    id,
    key,
    setting,
    risk,
  }));
}

/** Synth refuses a risky setting the config does not acknowledge, naming its key and the entry to add. */
export function checkAcknowledged(config: Config): void {
  const missing = riskySettings(config).find((s) => !config.acknowledged.includes(s.id));
  if (missing) {
    throw new ConfigError(
      missing.key,
      `${missing.setting}: ${missing.risk}. Narrow it, or add \`${missing.id}\` to \`acknowledge\` to deploy it anyway`,
    );
  }
}

/** The warning synth prints for an acknowledged risky setting. */
export function riskWarning(s: RiskySetting): string {
  return `\`${s.key}\` ${s.setting}: ${s.risk} (acknowledged with \`acknowledge: [${s.id}]\`)`;
}
