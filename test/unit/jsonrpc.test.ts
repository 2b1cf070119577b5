/** The strict JSON-RPC parser of MCP POST bodies (functions/proxy/mcp/jsonrpc.ts, json-scan.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStrictJson, type StrictJsonError } from '../../functions/proxy/mcp/json-scan.ts';
import { fold, MCP_METHODS, parseMcpBody } from '../../functions/proxy/mcp/jsonrpc.ts';
import { OAuthError } from '../../functions/shared/errors.ts';

const enc = new TextEncoder();
const parse = (text: string | Uint8Array) => parseMcpBody(typeof text === 'string' ? enc.encode(text) : text);

/** The refusal of a body: HTTP status and the JSON-RPC error's id and code. */
function refusal(text: string | Uint8Array): { status: number; id: unknown; code: number } {
  try {
    parse(text);
  } catch (e) {
    if (!(e instanceof OAuthError) || !e.jsonRpc) throw e;
    return { status: e.status, id: e.jsonRpc.id, code: e.jsonRpc.code };
  }
  throw new Error(`accepted: ${String(text)}`);
}

const call = (params: string) => `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":${params}}`;

describe('parseMcpBody accepts and classifies', () => {
  const cases: [string, string, unknown][] = [
    [
      'a request',
      '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      { batch: false, messages: [{ kind: 'request', id: 1, method: 'ping' }] },
    ],
    [
      'a string id and params',
      call('{"name":"echo","arguments":{"m":"hi"}}').replace('7', '"a-1"'),
      {
        batch: false,
        messages: [
          {
            kind: 'request',
            id: 'a-1',
            method: 'tools/call',
            params: { name: 'echo', arguments: { m: 'hi' } },
          },
        ],
      },
    ],
    [
      'methods named like Object.prototype members',
      '[{"jsonrpc":"2.0","id":1,"method":"constructor"},{"jsonrpc":"2.0","id":2,"method":"__proto__","params":{}}]',
      {
        batch: true,
        messages: [
          { kind: 'request', id: 1, method: 'constructor' },
          { kind: 'request', id: 2, method: '__proto__', params: {} },
        ],
      },
    ],
    [
      'a notification',
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      { batch: false, messages: [{ kind: 'notification', method: 'notifications/initialized' }] },
    ],
    [
      'a result (a client answering a server request)',
      '{"jsonrpc":"2.0","id":"s1","result":{"roots":[]}}',
      { batch: false, messages: [{ kind: 'response', id: 's1' }] },
    ],
    [
      'an error response with a null id',
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"x","data":{}}}',
      { batch: false, messages: [{ kind: 'response', id: null }] },
    ],
    [
      'a batch, element by element',
      '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"result":{}}]',
      {
        batch: true,
        messages: [
          { kind: 'request', id: 1, method: 'ping' },
          { kind: 'notification', method: 'notifications/initialized' },
          { kind: 'response', id: 2 },
        ],
      },
    ],
    [
      'a vendor method and unknown keys that fold to no envelope key',
      '{"jsonrpc":"2.0","id":1,"method":"x-acme/Reindex","params":{"Path":"/","path":"/a"},"extra":1}',
      {
        batch: false,
        messages: [{ kind: 'request', id: 1, method: 'x-acme/Reindex', params: { Path: '/', path: '/a' } }],
      },
    ],
    [
      'case collisions below params (tool arguments are the tool’s)',
      call('{"name":"t","arguments":{"id":1,"ID":2,"Name":"x"}}'),
      {
        batch: false,
        messages: [
          {
            kind: 'request',
            id: 7,
            method: 'tools/call',
            params: { name: 't', arguments: { id: 1, ID: 2, Name: 'x' } },
          },
        ],
      },
    ],
    [
      'whitespace around the value and equal keys in different objects',
      ' \n{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"name":"a","x":{"name":1}}}}\r\n',
      {
        batch: false,
        messages: [
          {
            kind: 'request',
            id: 1,
            method: 'tools/call',
            params: { name: 'a', arguments: { name: 'a', x: { name: 1 } } },
          },
        ],
      },
    ],
  ];
  it.each(cases)('%s', (_name, text, want) => {
    expect(parse(text)).toEqual(want);
  });
});

describe('parseMcpBody refuses (400, JSON-RPC error)', () => {
  const P = -32700;
  const R = -32600;
  const I = -32602;
  const cases: [string, string | Uint8Array, number, unknown][] = [
    ['empty body', '', P, null],
    ['malformed JSON', '{"jsonrpc":"2.0",', P, null],
    ['trailing garbage', '{"jsonrpc":"2.0","id":1,"method":"ping"} x', P, null],
    ['two values', '{"jsonrpc":"2.0","id":1,"method":"ping"}{}', P, null],
    ['a byte order mark', '\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}', P, null],
    [
      'invalid UTF-8',
      new Uint8Array([...enc.encode('{"jsonrpc":"2.0","id":1,"method":"'), 0xc3, 0x28, 0x22, 0x7d]),
      P,
      null,
    ],
    ['overlong UTF-8', new Uint8Array([...enc.encode('{"a":"'), 0xc0, 0xaf, 0x22, 0x7d]), P, null],
    ['duplicate method', '{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}', P, 1],
    ['duplicate id (ambiguous: id null)', '{"jsonrpc":"2.0","id":1,"method":"ping","id":2}', P, null],
    ['duplicate via an escape', '{"jsonrpc":"2.0","id":1,"method":"ping","\\u006dethod":"tools/call"}', P, 1],
    ['duplicate params.name', call('{"name":"safe","name":"rm_rf"}'), P, 7],
    ['duplicate deep in arguments', call('{"name":"t","arguments":{"a":[{"b":{"c":1,"c":2}}]}}'), P, 7],
    ['duplicate after an escaped quote', call('{"name":"t","arguments":{"k":"\\"","k":1}}'), P, 7],
    ['duplicate __proto__', call('{"name":"t","arguments":{"__proto__":1,"__proto__":2}}'), P, 7],
    ['Method shadowing method', '{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}', R, 1],
    ['Method instead of method', '{"jsonrpc":"2.0","id":1,"Method":"tools/call"}', R, 1],
    ['ID beside id', '{"jsonrpc":"2.0","id":1,"ID":2,"method":"ping"}', R, 1],
    ['Params', '{"jsonrpc":"2.0","id":1,"method":"ping","Params":{}}', R, 1],
    ['JSONRPC', '{"JSONRPC":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}', R, 1],
    ['long s folding to params', '{"jsonrpc":"2.0","id":1,"method":"ping","paramſ":{}}', R, 1],
    ['fullwidth m (NFKC)', '{"jsonrpc":"2.0","id":1,"method":"ping","\uff4dethod":"tools/call"}', R, 1],
    ['Name in params', call('{"name":"safe","Name":"rm_rf"}'), R, 7],
    ['Name instead of name', call('{"Name":"rm_rf"}'), R, 7],
    [
      'URI beside uri',
      '{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"a:","URI":"b:"}}',
      R,
      3,
    ],
    ['Arguments', call('{"name":"t","Arguments":{}}'), R, 7],
    ['method case variant', '{"jsonrpc":"2.0","id":1,"method":"Tools/Call","params":{"name":"t"}}', R, 1],
    ['method fold variant (Kelvin sign)', '{"jsonrpc":"2.0","id":1,"method":"tas\u212as/get"}', R, 1],
    ['method with a space', '{"jsonrpc":"2.0","id":1,"method":"tools/call "}', R, 1],
    ['method not a string', '{"jsonrpc":"2.0","id":1,"method":5}', R, 1],
    ['empty method', '{"jsonrpc":"2.0","id":1,"method":""}', R, 1],
    ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":1,"method":"ping"}', R, 1],
    ['jsonrpc missing', '{"id":1,"method":"ping"}', R, 1],
    ['jsonrpc a number', '{"jsonrpc":2.0,"id":1,"method":"ping"}', R, 1],
    ['a string', '"ping"', R, null],
    ['null', 'null', R, null],
    ['a number', '1', R, null],
    ['empty batch', '[]', R, null],
    ['nested array', '[[{"jsonrpc":"2.0","id":1,"method":"ping"}]]', R, null],
    [
      'batch with one bad element',
      '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"Method":"x"}]',
      R,
      2,
    ],
    [
      'batch with a duplicate inside one element',
      '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping","id":3}]',
      P,
      null,
    ],
    [
      'batch with a duplicate deep in the second element',
      `[{"jsonrpc":"2.0","id":1,"method":"ping"},${call('{"name":"t","arguments":{"x":1,"x":2}}')}]`,
      P,
      7,
    ],
    ['batch with a scalar', '[{"jsonrpc":"2.0","id":1,"method":"ping"},5]', R, null],
    [
      'batch repeating an id',
      '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":1,"method":"tools/list"}]',
      R,
      1,
    ],
    ['request with a null id', '{"jsonrpc":"2.0","id":null,"method":"ping"}', R, null],
    ['id an object', '{"jsonrpc":"2.0","id":{},"method":"ping"}', R, null],
    ['id a fraction', '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', R, null],
    ['id beyond 2^53', '{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}', R, null],
    ['id a boolean', '{"jsonrpc":"2.0","id":true,"method":"ping"}', R, null],
    ['params an array (by position)', '{"jsonrpc":"2.0","id":1,"method":"ping","params":[]}', R, 1],
    ['params null', '{"jsonrpc":"2.0","id":1,"method":"ping","params":null}', R, 1],
    ['params a string', '{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}', R, 1],
    ['method with a result', '{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}', R, 1],
    ['result and error', '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}', R, 1],
    ['neither method nor id', '{"jsonrpc":"2.0","result":{}}', R, null],
    ['neither result nor error', '{"jsonrpc":"2.0","id":1}', R, 1],
    ['result with a null id', '{"jsonrpc":"2.0","id":null,"result":{}}', R, null],
    ['error not an object', '{"jsonrpc":"2.0","id":1,"error":"boom"}', R, 1],
    ['error code not an integer', '{"jsonrpc":"2.0","id":1,"error":{"code":"1","message":"m"}}', R, 1],
    ['response with params', '{"jsonrpc":"2.0","id":1,"result":{},"params":{}}', R, 1],
    ['too deep', call(`{"name":"t","arguments":${'['.repeat(80)}${']'.repeat(80)}}`), R, 7],
    ['tools/call without a name', call('{"arguments":{}}'), I, 7],
    ['tools/call without params', '{"jsonrpc":"2.0","id":7,"method":"tools/call"}', I, 7],
    ['resources/read without params', '{"jsonrpc":"2.0","id":7,"method":"resources/read"}', I, 7],
    ['tools/call with a numeric name', call('{"name":1}'), I, 7],
    ['tools/call with a lone surrogate', call('{"name":"a\\ud800"}'), I, 7],
    ['prompts/get without a name', '{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{}}', I, 2],
    [
      'resources/read without a uri',
      '{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"name":"x"}}',
      I,
      2,
    ],
    [
      'resources/subscribe with a non-string uri',
      '{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":{}}}',
      I,
      2,
    ],
  ];
  it.each(cases)('%s', (_name, text, code, id) => {
    expect(refusal(text)).toEqual({ status: 400, id, code });
  });
});

describe('fold', () => {
  it('maps every case and compatibility variant of an MCP method to the method', () => {
    for (const m of MCP_METHODS) {
      expect(fold(m.toUpperCase())).toBe(fold(m));
      expect(fold(m.replace(/s/g, 'ſ'))).toBe(fold(m));
    }
  });
});

describe('parseMcpBody properties', () => {
  // JSON values without `-0` (JSON.stringify writes it as 0).
  const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
  const message = fc.record({
    id: fc.oneof(fc.string(), fc.integer()),
    arguments: fc.dictionary(fc.string(), json),
  });
  const body = (m: { id: string | number; arguments: unknown }) => ({
    jsonrpc: '2.0',
    id: m.id,
    method: 'tools/call',
    params: { name: 'echo', arguments: m.arguments },
  });

  it('anything JSON.stringify writes parses to what JSON.parse reads', () => {
    fc.assert(
      fc.property(message, (m) => {
        const text = JSON.stringify(body(m));
        const [got] = parse(text).messages;
        expect(got).toEqual({ kind: 'request', ...JSON.parse(text), jsonrpc: undefined });
      }),
    );
  });

  it('the same batch parses element by element', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(message, { minLength: 1, maxLength: 5, selector: (m) => `${typeof m.id}:${m.id}` }),
        (ms) => {
          const text = JSON.stringify(ms.map(body));
          const parsed = parse(text);
          expect(parsed.batch).toBe(true);
          expect(parsed.messages.map((m) => (m.kind === 'request' ? m.params : undefined))).toEqual(
            JSON.parse(text).map((m: { params: unknown }) => m.params),
          );
        },
      ),
    );
  });

  /** Every object of a JSON value, as paths (for injecting a key into one of them). */
  const objects = (v: unknown, path: (string | number)[] = []): (string | number)[][] => {
    if (typeof v !== 'object' || v === null) return [];
    const here = Array.isArray(v) ? [] : [path];
    const kids = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
    return [...here, ...kids.flatMap(([k, x]) => objects(x, [...path, k]))];
  };

  it('any object with a key written twice, at any depth, is refused', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.string(), json, (m, pick, fallback, extra) => {
        const value = body(m) as Record<string, unknown>;
        const paths = objects(value);
        const path = paths[pick % paths.length]!;
        const target = path.reduce<unknown>(
          (o, k) => (o as Record<string | number, unknown>)[k],
          value,
        ) as Record<string, unknown>;
        const key = Object.keys(target)[0] ?? fallback;
        // Write the object's text by hand, with `key` once more at the end.
        const marker = '"__dup_marker__":0';
        target.__dup_marker__ = 0;
        const text = JSON.stringify(value).replace(
          marker,
          `"__dup_marker__":0,${JSON.stringify(key)}:${JSON.stringify(extra ?? null)}`,
        );
        if (!Object.hasOwn(target, key)) return; // the fallback key: only a duplicate when it exists
        expect(refusal(text).code).toBe(-32700);
      }),
    );
  });

  it('random text and random bytes are refused with the JSON-RPC error, nothing else', () => {
    const check = (input: string | Uint8Array) => {
      try {
        parse(input);
      } catch (e) {
        expect(e).toBeInstanceOf(OAuthError);
        expect((e as OAuthError).status).toBe(400);
        expect((e as OAuthError).jsonRpc).toBeDefined();
      }
    };
    fc.assert(fc.property(fc.string({ unit: 'binary' }), check));
    fc.assert(fc.property(fc.uint8Array(), check));
    fc.assert(fc.property(fc.json(), check));
  });
});

describe('parseStrictJson: the fast member count and the key scan agree', () => {
  // Trees whose object keys are drawn from spellings of few names (`"\u0061"` is `"a"`), so that
  // repeated keys are frequent; `dup` says whether some object repeats a decoded key.
  type Tree = { text: string; dup: boolean };
  const KEYS: [string, string][] = [
    ['"a"', 'a'],
    ['"\\u0061"', 'a'],
    ['"A"', 'A'],
    ['"b\\"c"', 'b"c'],
    ['"b\\u0022c"', 'b"c'],
    ['"{\\\\"', '{\\'],
  ];
  const { tree } = fc.letrec<{ tree: Tree; leaf: Tree; arr: Tree; obj: Tree }>((t) => ({
    tree: fc.oneof({ depthSize: 'small' }, t('leaf'), t('arr'), t('obj')),
    leaf: fc
      .constantFrom('1', '"x:y"', '"\\\\"', 'true', 'null', '"}"')
      .map((text) => ({ text, dup: false })),
    arr: fc.array(t('tree'), { maxLength: 4 }).map((xs) => ({
      text: `[${xs.map((x) => x.text).join(',')}]`,
      dup: xs.some((x) => x.dup),
    })),
    obj: fc.array(fc.tuple(fc.constantFrom(...KEYS), t('tree')), { maxLength: 4 }).map((es) => {
      const names = es.map(([[, name]]) => name);
      return {
        text: `{${es.map(([[raw], v]) => `${raw}:${v.text}`).join(',')}}`,
        dup: new Set(names).size !== names.length || es.some(([, v]) => v.dup),
      };
    }),
  }));

  it('refuses exactly the texts with a repeated key', () => {
    fc.assert(
      fc.property(tree, ({ text, dup }) => {
        let refused: unknown;
        try {
          expect(parseStrictJson(text, 1000)).toEqual(JSON.parse(text));
        } catch (e) {
          refused = e;
        }
        if (dup) expect((refused as StrictJsonError).problem.kind).toBe('duplicate');
        else expect(refused).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});
