// Fetches the published tari.js WebRTC client, `TariConnection` of
// @tari-project/wallet-daemon-signer, from npm for tests/direct/tari.test.mjs: `npm pack` of
// the pinned version (the package's own dependencies do not resolve on npm today, and
// webrtc.js imports none of them), checked against the registry's pinned integrity, unpacked
// to target/direct-e2e/tari/. The file is used as published: nothing is patched.
//
//   node tests/direct/fetch-tarijs.mjs      prints the path of webrtc.js
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const VERSION = "0.14.6";
const INTEGRITY =
  "sha512-AOCscTcT/B9zqZLAs7WVOAcVyEkifqVwdnqv11mTzkhka9XAP2Pqo/h460Ww3zVRwNfr2XcLQtiAlh92v9FakQ==";

const root = resolve(fileURLToPath(import.meta.url), "../../..");
const dir = join(root, "target/direct-e2e/tari");
const webrtc = join(dir, "package/dist/webrtc.js");
if (!existsSync(webrtc)) {
  mkdirSync(dir, { recursive: true });
  execFileSync("npm", ["pack", `@tari-project/wallet-daemon-signer@${VERSION}`, "--pack-destination", dir, "--silent"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tarball = readdirSync(dir).find((f) => f.endsWith(`-${VERSION}.tgz`));
  if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`);
  const digest = `sha512-${createHash("sha512").update(readFileSync(join(dir, tarball))).digest("base64")}`;
  if (digest !== INTEGRITY) throw new Error(`${tarball}: integrity ${digest}, expected ${INTEGRITY}`);
  execFileSync("tar", ["xzf", join(dir, tarball), "-C", dir]);
}
console.log(webrtc);
