// Browsers have no `Buffer`; the MWP session store uses it, so the bundles get the npm
// `buffer` polyfill wherever a module refers to it (esbuild --inject).
export { Buffer } from "buffer";
