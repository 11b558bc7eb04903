// What a browser dApp or wallet must supply to MetaMask's mobile wallet protocol packages
// itself: the key manager (their published scheme: eciesjs, secp256k1 keys, the public key
// compressed to 33 bytes, one ECIES box per message, base64 on the wire) and a key-value store
// over localStorage. Written for this benchmark from the IKeyManager / IKVStore interfaces of
// @metamask/mobile-wallet-protocol-core.

import { PrivateKey, PublicKey, decrypt, encrypt } from "eciesjs";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export class EciesKeyManager {
  generateKeyPair() {
    const secret = new PrivateKey();
    return { privateKey: new Uint8Array(secret.secret), publicKey: secret.publicKey.toBytes(true) };
  }

  async encrypt(plaintext, theirPublicKey) {
    return toBase64(encrypt(theirPublicKey, encoder.encode(plaintext)));
  }

  async decrypt(encryptedB64, myPrivateKey) {
    return decoder.decode(decrypt(myPrivateKey, fromBase64(encryptedB64)));
  }

  validatePeerKey(key) {
    // Throws unless the bytes are a point on secp256k1.
    new PublicKey(key);
  }
}

/** IKVStore over localStorage, every key under `prefix`. */
export class LocalStorageKV {
  constructor(prefix = "mwp:") {
    this.prefix = prefix;
  }

  async get(key) {
    return localStorage.getItem(this.prefix + key);
  }

  async set(key, value) {
    localStorage.setItem(this.prefix + key, value);
  }

  async delete(key) {
    localStorage.removeItem(this.prefix + key);
  }
}
