// Encryption throughput in the page: walletwire's XChaCha20-Poly1305 (the crate's
// `crypto::Key` compiled to wasm with the release profile and wasm-opt -Oz, exported only by
// the `bench` feature build in /build/wasm) against @noble/ciphers' xchacha20poly1305 and
// eciesjs (what MetaMask's mobile wallet protocol pays per message), same sizes, same
// 73-byte associated data for the AEADs.

import * as shipped from "/build/wasm/walletwire_bench.js";
import { PrivateKey, eciesDecrypt, eciesEncrypt, xchacha20poly1305 } from "/build/crypto.js";

await shipped.default();

// The same code built for speed (opt-level 3, wasm-opt -O3) when build.sh made it: what
// walletwire's cipher does when not built for size.
let fast = null;
try {
  fast = await import("/build/wasm-o3/walletwire_bench.js");
  await fast.default();
} catch {
  fast = null;
}

export function implementations() {
  return fast ? ["walletwire", "walletwire-o3", "noble", "ecies"] : ["walletwire", "noble", "ecies"];
}

const AAD = new Uint8Array(73).fill(97);
const KEY = new Uint8Array(32).fill(7);

function plaintext(size) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = i & 0xff;
  return out;
}

function nonce(i) {
  const n = new Uint8Array(24).fill(9);
  new DataView(n.buffer).setUint32(0, i, true);
  return n;
}

/** `run(iterations)` for each implementation and operation; each returns a checksum. */
function runner(impl, op, size) {
  if (impl === "walletwire" || impl === "walletwire-o3") {
    const { benchOpen, benchSeal } = impl === "walletwire" ? shipped : fast;
    return op === "seal"
      ? (n) => benchSeal(size, n)
      : (n) => {
          const check = benchOpen(size, n);
          if (check === 0xffffffff) throw new Error("walletwire: a box did not open");
          return check;
        };
  }
  const pt = plaintext(size);
  if (impl === "noble") {
    if (op === "seal") {
      return (n) => {
        let check = 0;
        for (let i = 0; i < n; i++) {
          const sealed = xchacha20poly1305(KEY, nonce(i), AAD).encrypt(pt);
          check += sealed[sealed.length - 1];
        }
        return check;
      };
    }
    const sealed = xchacha20poly1305(KEY, nonce(0), AAD).encrypt(pt);
    return (n) => {
      let check = 0;
      for (let i = 0; i < n; i++) {
        const opened = xchacha20poly1305(KEY, nonce(0), AAD).decrypt(sealed);
        check += opened[opened.length - 1];
      }
      return check;
    };
  }
  // eciesjs: a fresh ephemeral secp256k1 key and ECDH per seal, ECDH per open, AES-256-GCM.
  const secret = new PrivateKey();
  const publicKey = secret.publicKey.toBytes(true);
  if (op === "seal") {
    return (n) => {
      let check = 0;
      for (let i = 0; i < n; i++) {
        const sealed = eciesEncrypt(publicKey, pt);
        check += sealed[sealed.length - 1];
      }
      return check;
    };
  }
  const sealed = eciesEncrypt(publicKey, pt);
  return (n) => {
    let check = 0;
    for (let i = 0; i < n; i++) {
      const opened = eciesDecrypt(secret.secret, sealed);
      check += opened[opened.length - 1];
    }
    return check;
  };
}

/**
 * Doubles the iterations until one batch takes at least `minMs` (the earlier batches warm
 * the JIT up); returns that batch: `{iterations, ms, mbPerS, usPerMessage}`.
 */
export function measure({ impl, op, size, minMs }) {
  const run = runner(impl, op, size);
  let iterations = 1;
  for (;;) {
    const start = performance.now();
    run(iterations);
    const ms = performance.now() - start;
    if (ms >= minMs || iterations >= 1 << 24) {
      return { iterations, ms, mbPerS: (size * iterations) / (ms * 1000), usPerMessage: (ms * 1000) / iterations };
    }
    iterations *= ms > 0 ? Math.min(16, Math.max(2, Math.ceil((minMs * 1.2) / ms))) : 16;
  }
}
