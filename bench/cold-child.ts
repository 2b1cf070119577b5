/**
 * One fresh process of the cold-path bench (bundled by cold.ts into plain JS, so nothing but
 * node and this small harness runs before the bundle): import the bundle under the `awslambda`
 * global as Lambda's runtime would (module init), invoke its handler once with the event, and
 * write the timings (ms since the process started) to the result file.
 *
 *   node cold-child.mjs <bundle.mjs> <streaming|buffered> <event.json> <result.json>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { installAwsLambdaGlobal, RuntimeResponseStream } from '../bin/local/awslambda.ts';

const bootMs = performance.now();
const [bundle, kind, eventFile, resultFile] = process.argv.slice(2) as [string, string, string, string];
installAwsLambdaGlobal();
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: 'cold',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
};

const t0 = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const initMs = performance.now() - t0;

let status = 0;
if (kind === 'streaming') {
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const stream = new RuntimeResponseStream((c) => chunks.push(c), resolve);
    handler(event, stream, context).catch(reject);
  });
  status = Number(/"statusCode":(\d+)/.exec(Buffer.concat(chunks).toString())?.[1]);
} else {
  status = (await handler(event, context)).statusCode;
}
const firstResponseMs = performance.now();
writeFileSync(resultFile, JSON.stringify({ bootMs, initMs, firstResponseMs, status }));
process.exit(0);
