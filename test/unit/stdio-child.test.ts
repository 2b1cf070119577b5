/**
 * The local runner's stdio child (bin/local/stdio-child.ts): the command line it runs (`args`
 * quoted), JSON-RPC lines both ways, and stopping stops what the command started too (its process
 * group), not only the shell.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine, quoteArg, StdioChild } from '../../bin/local/stdio-child.ts';

const cfg = (command: string, args: string[] = [], env: string[] = []) => ({ command, args, env });

/** Processes of the process group `pgid`. */
function group(pgid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,pgid='], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, g]) => g === pgid)
    .map(([p]) => p!);
}

describe('the command line', () => {
  it.each([
    ['stdio', 'stdio'],
    ['--port=1', '--port=1'],
    ['two words', "'two words'"],
    ["it's", `'it'\\''s'`],
    ['$HOME', "'$HOME'"],
    ['a;rm -rf /', "'a;rm -rf /'"],
  ])('quotes %s as %s', (arg, quoted) => {
    expect(quoteArg(arg)).toBe(quoted);
  });

  it('is user_command followed by its args, each one word', () => {
    expect(commandLine(cfg('npx -y server', ['stdio', 'a b']))).toBe("npx -y server stdio 'a b'");
    const words = execFileSync(
      '/bin/sh',
      ['-c', `${commandLine(cfg('printf "%s|"', ['a b', "c'd", '$x']))}`],
      {
        encoding: 'utf8',
      },
    );
    expect(words).toBe("a b|c'd|$x|");
  });
});

describe('a stdio child', () => {
  it('relays JSON-RPC lines both ways and gets the `env` entries', async () => {
    // A "server" answering each line with its id and the value of $GREETING.
    const script = `node -e "require('readline').createInterface({input:process.stdin}).on('line',l=>{const m=JSON.parse(l);console.log(JSON.stringify({jsonrpc:'2.0',id:m.id,result:{greeting:process.env.GREETING}}))})"`;
    const child = new StdioChild(cfg(script, [], ['GREETING=hello there']));
    const got = new Promise((r) => {
      child.onmessage = r;
    });
    await child.start();
    await child.send({ jsonrpc: '2.0', id: 7, method: 'ping' });
    expect(await got).toEqual({ jsonrpc: '2.0', id: 7, result: { greeting: 'hello there' } });
    await child.close();
  });

  it('stop ends the whole process group: a process the command started in the background too', async () => {
    // The shell's children (the `sleep`s) would be orphaned by signalling the shell's pid alone.
    const child = new StdioChild(cfg('sleep 300 & sleep 301'));
    const closed = new Promise<void>((r) => {
      child.onclose = r;
    });
    await child.start();
    const pgid = child.pid!;
    await new Promise((r) => setTimeout(r, 300));
    expect(group(pgid).length).toBeGreaterThanOrEqual(3);
    await child.close();
    await closed;
    expect(group(pgid)).toEqual([]);
  });

  it('a command that cannot start closes', async () => {
    const child = new StdioChild(cfg('exit 3'));
    const closed = new Promise<void>((r) => {
      child.onclose = r;
    });
    await child.start();
    await closed;
    await expect(child.send({ jsonrpc: '2.0', id: 1, method: 'ping' })).rejects.toThrow('not running');
  });
});
