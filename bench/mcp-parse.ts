/**
 * What the strict parse of an MCP POST body costs (issue 11): `parseMcpBody` + the header
 * agreement on a 10 KB `tools/call`, against a baseline measured in the same rounds, interleaved —
 * UTF-8 decoding plus a plain `JSON.parse` of the same bytes, which any proxy reading the body pays.
 * Medians of many rounds; on a shared machine read the ratio, not the microseconds.
 *
 *   npx tsx bench/mcp-parse.ts   (also printed by `npm run bench`)
 */
import { parseMcpBody } from '../functions/proxy/mcp/jsonrpc.ts';
import { checkTransportHeaders } from '../functions/proxy/mcp/transport-headers.ts';

/** A `tools/call` of about `bytes` bytes with nested arguments (objects, arrays, escapes). */
export function toolCallBody(bytes: number): Uint8Array {
  const args: Record<string, unknown> = {};
  const msg = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'search', arguments: args } };
  for (let i = 0; JSON.stringify(msg).length < bytes; i++) {
    args[`field_${i}`] = {
      text: `lorem "ipsum" dolor\\sit ${i}`,
      n: i * 1.5,
      ok: i % 2 === 0,
      tags: ['a', 'b', i],
    };
  }
  return new TextEncoder().encode(JSON.stringify(msg));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Microseconds per call (median of `rounds` rounds of `perRound` calls) of both, and their ratio. */
export function parseCost(bytes = 10 * 1024, rounds = 200, perRound = 50) {
  const body = toolCallBody(bytes);
  const headers = new Headers({ 'mcp-method': 'tools/call', 'mcp-name': 'search' });
  const decoder = new TextDecoder();
  const strict = () => checkTransportHeaders(headers, parseMcpBody(body));
  const plain = () => JSON.parse(decoder.decode(body));
  const time = (f: () => unknown) => {
    const s = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) f();
    return Number(process.hrtime.bigint() - s) / perRound / 1000;
  };
  for (let i = 0; i < 20; i++) {
    time(strict); // warm the JIT
    time(plain);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(time(strict));
    b.push(time(plain));
  }
  const strictUs = median(a);
  const plainUs = median(b);
  return { bytes: body.byteLength, strictUs, plainUs, ratio: strictUs / plainUs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const c = parseCost();
  process.stdout.write(
    `strict parse + header check of a ${c.bytes}-byte tools/call: ${c.strictUs.toFixed(1)} µs median ` +
      `(decode + JSON.parse alone: ${c.plainUs.toFixed(1)} µs; ratio ${c.ratio.toFixed(2)})\n`,
  );
}
