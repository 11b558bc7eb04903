// The wallet side of MetaMask's mobile wallet protocol for the browser benchmark. Their
// wallet client is not published on npm, so this is a minimal wallet on -core's published
// BaseClient that follows the trusted handshake the published dapp-client 0.3.0 expects:
// subscribe to the request's handshake channel and a fresh session channel, send one
// encrypted `handshake-offer` {publicKeyB64, channelId}, persist the session; no ack.
// Messages are `{type: "message", payload}` in both directions, as the dapp-client sends them.

import { BaseClient, DEFAULT_SESSION_TTL, SessionStore, WebSocketTransport } from "@metamask/mobile-wallet-protocol-core";
import { EciesKeyManager, LocalStorageKV, fromBase64, toBase64 } from "./mwp-support.js";

export { EciesKeyManager, LocalStorageKV, SessionStore, WebSocketTransport };

export class BenchWallet extends BaseClient {
  async connect(request) {
    if (this.state !== "DISCONNECTED") throw new Error(`cannot connect when ${this.state}`);
    if (request.mode !== "trusted") throw new Error("this wallet speaks the trusted handshake only");
    if (Date.now() > request.expiresAt) throw new Error("session request expired");
    this.state = "CONNECTING";
    const theirPublicKey = fromBase64(request.publicKeyB64);
    this.keymanager.validatePeerKey(theirPublicKey);
    const keyPair = this.keymanager.generateKeyPair();
    const channelId = crypto.randomUUID();
    this.session = {
      id: request.id,
      channel: `session:${channelId}`,
      keyPair,
      theirPublicKey,
      expiresAt: Date.now() + DEFAULT_SESSION_TTL,
    };
    await this.transport.connect();
    await this.transport.subscribe(request.channel);
    await this.transport.subscribe(this.session.channel);
    await this.sendMessage(request.channel, {
      type: "handshake-offer",
      payload: { publicKeyB64: toBase64(keyPair.publicKey), channelId },
    });
    await this.sessionstore.set(this.session);
    this.state = "CONNECTED";
    this.emit("connected");
  }

  /** Sends an application message on the session channel. */
  send(payload) {
    return this.sendMessage(this.session.channel, { type: "message", payload });
  }

  handleMessage(message) {
    if (this.state === "CONNECTED" && message.type === "message") this.emit("message", message.payload);
  }
}
