// The JavaScript ciphers of the encryption benchmark: @noble/ciphers' XChaCha20-Poly1305
// and eciesjs (the per-message scheme MetaMask's mobile wallet protocol uses).

export { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
export { PrivateKey, decrypt as eciesDecrypt, encrypt as eciesEncrypt } from "eciesjs";
