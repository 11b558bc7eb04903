// Bundles what the demo pages use of viem (a well-kept EVM library from npm, pinned in
// tools/package.json) into www/vendor/evm.js, one ES module the pages import without a
// bundler: the demo wallet page signs with it (secp256k1 accounts, EIP-191, EIP-712, EIP-1559
// transactions) and the demo dApp's EVM panel drives walletwire/eip1193 with it. Generated,
// not committed (.gitignore); scripts/build-demo.sh runs this.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// esbuild and viem live in tools/node_modules (npm ci --prefix tools).
const { build } = createRequire(join(root, "tools", "package.json"))("esbuild");
const contents = `
export {
  createWalletClient, custom, getAddress, hashMessage, hashTypedData, hexToBytes, isAddress, isHex,
  keccak256, parseEther, formatEther, numberToHex, hexToBigInt, toHex, verifyMessage, verifyTypedData,
  UserRejectedRequestError,
} from "viem";
export { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
export { mainnet, sepolia } from "viem/chains";
`;
mkdirSync(join(root, "www", "vendor"), { recursive: true });
await build({
  stdin: { contents, resolveDir: join(root, "tools"), loader: "js" },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "eof",
  outfile: join(root, "www", "vendor", "evm.js"),
  logLevel: "error",
});
