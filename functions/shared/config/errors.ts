/** The one config error: its message names the full key (`invalid config: \`token.issuer\` ...`). */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`invalid config: \`${key}\` ${message}`);
    this.name = 'ConfigError';
  }
}
