// Message signatures with WebCrypto: Ed25519 where the browser has it, ECDSA P-256 otherwise.
// The wallet page signs; the dApp page checks what any wallet (including the native
// reference wallet) returns from `message.sign`.

export const ED25519 = "ed25519";
export const ECDSA_P256 = "ecdsa-p256-sha256";

export function toHex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  if (typeof text !== "string" || text.length % 2 || /[^0-9a-f]/i.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The bytes a `message.sign` request signs: UTF-8 by default, or hex. */
export function messageBytes(message, encoding) {
  if (encoding === "hex") return fromHex(message);
  return new TextEncoder().encode(String(message));
}

function algorithmParams(algorithm) {
  if (algorithm === ED25519) return { key: { name: "Ed25519" }, sign: { name: "Ed25519" } };
  if (algorithm === ECDSA_P256) {
    return { key: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } };
  }
  return null;
}

/** Whether this browser's WebCrypto has Ed25519. */
export async function hasEd25519() {
  try {
    await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a `message.sign` result `{publicKey, signature, algorithm}` against the message.
 * Resolves `true`/`false`, or `null` when the algorithm or key format is not one we know.
 */
export async function verifySignature(result, message, encoding) {
  const params = algorithmParams(result.algorithm);
  const key = fromHex(result.publicKey);
  const signature = fromHex(result.signature);
  const data = messageBytes(message, encoding);
  if (!params || !key || !signature || !data) return null;
  try {
    const publicKey = await crypto.subtle.importKey("raw", key, params.key, false, ["verify"]);
    return await crypto.subtle.verify(params.sign, publicKey, signature, data);
  } catch {
    return null;
  }
}
