/**
 * Config keys as data: one table per YAML section (name, type, default, range). What each key
 * means is said once, in docs/configuration.md (the bundles carry no descriptions).
 *
 * The section parsers read every default, range and pattern from their table through `Section`,
 * and test/unit/config-docs.test.ts checks docs/configuration.md against all tables (and that
 * `parseConfig` reads no key missing from them). Plain objects, no schema library: this is part
 * of both function bundles.
 */
import { ConfigError } from './errors.ts';
import type { ConfigReader, Raw, SecretRef } from './reader.ts';
import { checkSecureUrl } from './urls.ts';

interface Common {
  /** The parser refuses a config without it (for its provider). */
  readonly required?: true;
  /** A default computed from other keys or the request, worded as the docs' Default cell starts. */
  readonly derived?: string;
  /** Other names accepted for the key (the original Go proxy's). */
  readonly aliases?: readonly string[];
}

export interface IntKey extends Common {
  readonly type: 'int';
  readonly default: number;
  readonly min: number;
  readonly max: number;
}
export interface BoolKey extends Common {
  readonly type: 'bool';
  readonly default: boolean;
}
export interface StringKey extends Common {
  readonly type: 'string';
  readonly default?: string;
  /** The only values accepted. */
  readonly values?: readonly string[];
}
export interface UrlKey extends Common {
  readonly type: 'url';
  readonly default?: string;
  /** https, or plain http on a loopback host only (`checkSecureUrl`). */
  readonly secure?: true;
}
/** A YAML sequence or a comma-separated string. */
export interface ListKey extends Common {
  readonly type: 'list';
  readonly default?: readonly string[];
  /** Every entry must match (the message shows `example`). */
  readonly pattern?: RegExp;
  readonly example?: string;
  /** Every entry is a URL checked with `checkSecureUrl`. */
  readonly secure?: true;
}
/** Inline value `<key>` or SSM SecureString name `<key>_ssm_parameter`. */
export interface SecretKey extends Common {
  readonly type: 'secret';
}
export interface MappingKey extends Common {
  readonly type: 'mapping';
  readonly default?: Readonly<Record<string, never>>;
}
/** A list of `{name, value}`. */
export interface ParamsKey extends Common {
  readonly type: 'params';
  readonly default: readonly [];
}

export type KeyDef = IntKey | BoolKey | StringKey | UrlKey | ListKey | SecretKey | MappingKey | ParamsKey;
export type Keys = Readonly<Record<string, KeyDef>>;

export interface KeyTable<T extends Keys = Keys> {
  /** Dotted name of the YAML mapping ('' = top level; `<path>` stands for any key). */
  readonly name: string;
  readonly keys: T;
  /** Other names of the mapping (the original's `demo` block for `asgardeo`). */
  readonly aliases?: readonly string[];
}

const TABLES: KeyTable[] = [];

/** Define (and register) a section's keys. */
export function table<const T extends Keys>(name: string, keys: T, aliases?: readonly string[]): KeyTable<T> {
  const t: KeyTable<T> = aliases ? { name, keys, aliases } : { name, keys };
  TABLES.push(t);
  return t;
}

/** Every table defined so far (all of them once `parseConfig`'s module is loaded). */
export const keyTables = (): readonly KeyTable[] => TABLES;

/** `must be "a" or "b"` for two values, `must be one of a, b, c` for more. */
export function choiceMessage(values: readonly string[], v: string): string {
  return values.length === 2
    ? `must be "${values[0]}" or "${values[1]}" (got "${v}")`
    : `must be one of ${values.join(', ')} (got "${v}")`;
}

type Named<T extends Keys, D> = { [K in keyof T]: T[K] extends D ? K : never }[keyof T] & string;
type StrOut<D> =
  | (D extends { values: readonly (infer V)[] } ? V : string)
  | (D extends { default: string } ? never : undefined);
type UrlOut<D> = D extends { default: string } ? string : string | undefined;

/** One mapping of the raw config read through its key table. */
export class Section<T extends Keys> {
  constructor(
    readonly r: ConfigReader,
    readonly keys: T,
  ) {}

  key(k: keyof T & string): string {
    return this.r.key(k);
  }

  has(k: keyof T & string): boolean {
    return this.r.has(k);
  }

  int(k: Named<T, IntKey>): number {
    const d = this.keys[k] as IntKey;
    return this.r.int(k, d.default, d.min, d.max);
  }

  bool(k: Named<T, BoolKey>): boolean {
    return this.r.bool(k, (this.keys[k] as BoolKey).default);
  }

  str<K extends Named<T, StringKey>>(k: K): StrOut<T[K]> {
    const d = this.keys[k] as StringKey;
    const v = this.r.str(k) ?? d.default;
    if (v !== undefined && d.values && !d.values.includes(v)) {
      throw new ConfigError(this.r.key(k), choiceMessage(d.values, v));
    }
    return v as StrOut<T[K]>;
  }

  /** With `why`, the key is required and a missing one is refused with that message. */
  url<K extends Named<T, UrlKey>>(k: K, why?: string): UrlOut<T[K]> {
    const d = this.keys[k] as UrlKey;
    const v = this.r.url(k, { required: why !== undefined, why, secure: d.secure });
    return (v ?? d.default) as UrlOut<T[K]>;
  }

  list(k: Named<T, ListKey>): readonly string[] {
    const d = this.keys[k] as ListKey;
    const v = this.r.list(k, d.default ?? [], d.pattern, d.example);
    return d.secure ? v.map((u, i) => checkSecureUrl(`${this.r.key(k)}[${i}]`, u)) : v;
  }

  secret(k: Named<T, SecretKey>): SecretRef | undefined {
    return this.r.secret(k);
  }

  mapping(k: Named<T, MappingKey>): Raw | undefined {
    const d = (this.keys[k] as MappingKey).default;
    return this.r.rawObj(k) ?? (d ? { ...d } : undefined);
  }
}

/** The table's mapping of `r` (a `ConfigError` if it is not a mapping), read through the table. */
export function open<T extends Keys>(r: ConfigReader, t: KeyTable<T>): Section<T> {
  return new Section(t.name ? r.obj(t.name) : r, t.keys);
}
