/**
 * `ConfigReader`: typed reads of one mapping of the raw config (parsed YAML or JSON); every error
 * names the full key. Shared with lib/ (the `deploy:` block).
 */
import { isObject } from '../encoding.ts';
import { ConfigError } from './errors.ts';
import { checkSecureUrl, checkUrl } from './urls.ts';

export type Raw = Record<string, unknown>;

/** A secret: inline (local runs only) or the name of an SSM SecureString parameter. */
export interface SecretRef {
  readonly value?: string;
  readonly ssmParameter?: string;
}

/** Reads one mapping of the raw config; every error names the full key. Shared with lib/. */
export class ConfigReader {
  constructor(
    private readonly raw: Raw,
    private readonly prefix: string,
  ) {}

  key(k: string): string {
    return this.prefix ? `${this.prefix}.${k}` : k;
  }

  /** The raw value, unchecked. */
  value(k: string): unknown {
    return this.raw[k];
  }

  has(k: string): boolean {
    return this.raw[k] !== undefined && this.raw[k] !== null && this.raw[k] !== '';
  }

  /** First present alias wins; returns the key actually used for messages. */
  pick(...keys: string[]): string {
    return keys.find((k) => this.has(k)) ?? keys[0]!;
  }

  obj(k: string): ConfigReader {
    return this.optObj(k) ?? new ConfigReader({}, this.key(k));
  }

  /** The nested mapping, or undefined when the key is absent. */
  optObj(k: string): ConfigReader | undefined {
    const v = this.raw[k];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw new ConfigError(this.key(k), 'must be a mapping');
    return new ConfigReader(v, this.key(k));
  }

  rawObj(k: string): Raw | undefined {
    const v = this.raw[k];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw new ConfigError(this.key(k), 'must be a mapping');
    return v;
  }

  /** A string; with `re`, it must match (the message shows `example`). */
  str(k: string, re?: RegExp, example?: string): string | undefined {
    const v = this.raw[k];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string')
      throw new ConfigError(this.key(k), `must be a string (got ${JSON.stringify(v)})`);
    if (re && !re.test(v)) throw new ConfigError(this.key(k), `must look like "${example}" (got "${v}")`);
    return v;
  }

  reqStr(k: string, why = 'is required'): string {
    const v = this.str(k);
    if (v === undefined) throw new ConfigError(this.key(k), why);
    return v;
  }

  /** An http(s) URL; with `secure`, plain http only on a loopback host (see `checkSecureUrl`). */
  url(k: string, opts: { required?: boolean; why?: string; secure?: boolean } = {}): string | undefined {
    const v = opts.required ? this.reqStr(k, opts.why) : this.str(k);
    if (v === undefined) return undefined;
    return opts.secure ? checkSecureUrl(this.key(k), v) : checkUrl(this.key(k), v);
  }

  int(k: string, def: number, min: number, max: number): number;
  int(k: string, def: undefined, min: number, max: number): number | undefined;
  int(k: string, def: number | undefined, min: number, max: number): number | undefined {
    const v = this.raw[k];
    if (v === undefined || v === null || v === '') return def;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(
        this.key(k),
        `must be an integer between ${min} and ${max} (got ${JSON.stringify(v)})`,
      );
    }
    return n;
  }

  bool(k: string, def: boolean): boolean {
    const v = this.raw[k];
    if (v === undefined || v === null) return def;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw new ConfigError(this.key(k), `must be true or false (got ${JSON.stringify(v)})`);
  }

  /** A list (YAML sequence or comma-separated string); with `re`, every entry must match. */
  list(k: string, def: readonly string[] = [], re?: RegExp, example?: string): readonly string[] {
    const v = this.raw[k];
    if (v === undefined || v === null) return def;
    const arr = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
    if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string' && x.length > 0)) {
      throw new ConfigError(this.key(k), 'must be a list of non-empty strings');
    }
    if (re && !arr.every((x) => re.test(x))) {
      throw new ConfigError(
        this.key(k),
        `must be a list of values like "${example}" (got ${JSON.stringify(v)})`,
      );
    }
    return arr as string[];
  }

  secret(k: string): SecretRef | undefined {
    const inline = this.str(k);
    const ssm = this.str(`${k}_ssm_parameter`);
    if (inline !== undefined && ssm !== undefined) {
      throw new ConfigError(this.key(k), `and \`${this.key(`${k}_ssm_parameter`)}\` are both set; use one`);
    }
    if (ssm !== undefined && !/^[a-zA-Z0-9_.\-/]+$/.test(ssm)) {
      throw new ConfigError(
        this.key(`${k}_ssm_parameter`),
        `is not a valid SSM parameter name (got "${ssm}")`,
      );
    }
    if (inline !== undefined) return { value: inline };
    if (ssm !== undefined) return { ssmParameter: ssm };
    return undefined;
  }
}
