import { defineConfig } from "vite";

export default defineConfig({
  // Keep the package out of the dependency pre-bundling so that its
  // `new URL("walletwire_bg.wasm", import.meta.url)` still points at the wasm file in dev.
  optimizeDeps: { exclude: ["walletwire"] },
  // `walletwire` is linked from ../../pkg: let the dev server read it.
  server: { fs: { allow: ["../.."] } },
  // walletwire/wagmi imports its optional peer dependency `@wagmi/core`: a package linked from
  // outside this folder would look for it beside ../../pkg, so resolve it (and viem) from here,
  // as an installed package finds them anyway.
  resolve: { dedupe: ["@wagmi/core", "viem"] },
  build: { target: "es2022" },
});
