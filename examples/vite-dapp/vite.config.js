import { defineConfig } from "vite";

export default defineConfig({
  // Keep the package out of the dependency pre-bundling so that its
  // `new URL("walletwire_bg.wasm", import.meta.url)` still points at the wasm file in dev.
  optimizeDeps: { exclude: ["walletwire"] },
  // `walletwire` is linked from ../../pkg: let the dev server read it.
  server: { fs: { allow: ["../.."] } },
  build: { target: "es2022" },
});
