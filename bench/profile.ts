/**
 * Summarize a V8 CPU profile (`node --cpu-prof`): self time by function and by source — the
 * package, Node's internals, or our module. For an esbuild bundle built without minification,
 * lines are attributed to the module whose `// path` section they fall in.
 *
 *   npx tsx bench/profile.ts FILE.cpuprofile [--top 25]
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** For a bundle file: the module section each line belongs to (esbuild's `// path` comments). */
function sectionsOf(url: string): ((line: number) => string) | undefined {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (!path.endsWith('.mjs') || !existsSync(path)) return undefined;
  const starts: [number, string][] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((l, i) => {
      const m = /^\/\/ (\S+\.(?:[cm]?js|ts))$/.exec(l);
      if (m) starts.push([i, m[1]!]);
    });
  if (!starts.length) return undefined;
  return (line) => {
    let name = 'bundle';
    for (const [at, n] of starts) if (at <= line) name = n;
    return name;
  };
}

export function sourceOf(url: string, line: number, sections: (line: number) => string): string {
  const s = sections(line) ?? url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(s)?.[1];
  if (pkg) return pkg;
  if (s.startsWith('node:') || s === '') return s || '(native/gc/idle)';
  return s.replace(/^.*\/(functions|bin|bench|lib|test)\//, '$1/');
}

export function summarizeProfile(p: Profile, top: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  const sectionCache = new Map<string, ((line: number) => string) | undefined>();
  const fn = new Map<string, number>();
  const src = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (!sectionCache.has(url)) sectionCache.set(url, sectionsOf(url));
    const sections = sectionCache.get(url) ?? (() => url);
    const where = sourceOf(url, lineNumber, sections);
    total += ms;
    const k = `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`;
    fn.set(k, (fn.get(k) ?? 0) + ms);
    src.set(where, (src.get(where) ?? 0) + ms);
  }
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${v.toFixed(1).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  return `total ${total.toFixed(1)} ms\n\nby source:\n${list(src)}\n\nby function:\n${list(fn)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' } },
    allowPositionals: true,
  });
  for (const f of positionals) {
    process.stdout.write(
      `== ${f}\n${summarizeProfile(JSON.parse(readFileSync(f, 'utf8')), Number(values.top))}`,
    );
  }
}
