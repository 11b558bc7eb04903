// In-page helpers of the browser benchmark: a clock comparable across pages, payloads, and
// the sequential and pipelined request loops both protocols are measured with.

/** Milliseconds on a clock shared by every page of the browser (timeOrigin + now). */
export function now() {
  return performance.timeOrigin + performance.now();
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `size` random ASCII letters and digits (one byte each in UTF-8 and in JSON). */
export function payload(size) {
  const random = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(random.subarray(i, i + 65536));
  let out = "";
  for (let i = 0; i < size; i++) out += ALPHABET[random[i] % ALPHABET.length];
  return out;
}

/**
 * `count` round trips one after the other after `warmup` unmeasured ones; returns the
 * latencies (ms) and the bytes this page sent over WebSocket per measured round trip.
 */
export async function sequential(call, { count, warmup }) {
  for (let i = 0; i < warmup; i++) await call();
  const bytesBefore = window.wsBytesSent;
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await call();
    latencies.push(performance.now() - start);
  }
  return { latencies, bytesPerCall: (window.wsBytesSent - bytesBefore) / count };
}

/**
 * Keeps `window` round trips in flight for `seconds`, then waits for the last ones; returns
 * completed round trips per second over the whole run.
 */
export async function pipelined(call, { window: inFlight, seconds }) {
  if (!(seconds > 0)) return { completed: 0, perSecond: null };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let completed = 0;
  let end = start;
  async function lane() {
    while (performance.now() < deadline) {
      await call();
      completed++;
      end = performance.now();
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { completed, perSecond: (completed * 1000) / (end - start) };
}
