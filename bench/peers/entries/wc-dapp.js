// What a dApp ships to connect with WalletConnect: the sign client (SignClient.init, then
// connect() for the pairing URI and approval()). Bundled for the size table only.

export { SignClient } from "@walletconnect/sign-client";
