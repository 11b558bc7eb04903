// Shared by bench/relay, bench/direct and bench/native: the command-line options every
// script takes, statistics, bounded waits and the results file. Node built-ins only, so each
// bench directory can import it whatever its own node_modules hold.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

/** `--smoke`, `--repeats N`, `--out FILE` and the script's own `options` (node:util parseArgs). */
export function benchOptions(options = {}) {
  return parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      repeats: { type: 'string' },
      out: { type: 'string' },
      ...options,
    },
  }).values;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Writes `result` to `--out FILE` (saying so through `log`), else prints it on stdout. */
export function writeOutput(options, result, log) {
  if (options.out) {
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, JSON.stringify(result, null, 2) + '\n');
    log(`wrote ${options.out}`);
  } else {
    console.log(JSON.stringify(result, null, 2));
  }
}
