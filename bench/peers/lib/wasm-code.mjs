// Where a wasm module's code bytes come from: reads the function bodies and the `name`
// section (present in cargo's output before wasm-opt strips it) and groups body sizes by the
// crate or walletwire module their (mangled) names mention first. Approximate by nature:
// generic code instantiated for walletwire types counts for the crate that defines it (e.g.
// serde_json's deserializer for a walletwire struct counts as serde_json).

// `a::b` appears as `1a1b` (plain legacy mangling) or `a..b` (inside `$LT$...$GT$` impls).
const path = (...parts) => new RegExp(parts.map((p) => `${p.length}${p}`).join("") + "|" + parts.join("\\.\\."));

const GROUPS = [
  ["walletwire web::direct (WebRTC connector)", path("web", "direct")],
  ["walletwire direct flow core", path("walletwire", "direct")],
  ["walletwire web (SDK classes, driver)", path("walletwire", "web")],
  ["walletwire protocol", path("walletwire", "protocol")],
  ["walletwire relay client and hub", path("walletwire", "relay")],
  ["QR encoder", /qrcode|10walletwire2qr|walletwire\.\.qr/],
  ["walletwire other", /walletwire/],
  ["serde_json (with itoa, zmij number formatting)", /serde_json|itoa|zmij/],
  ["serde", /serde/],
  ["crypto (chacha20poly1305, x25519, sha2/hkdf)", /chacha20|poly1305|aead|universal_hash|cipher|curve25519|x25519|sha2|hkdf|hmac|digest/],
  ["wasm-bindgen, js-sys, web-sys", /wasm_bindgen|js_sys|web_sys|__wbg|__externref/],
  ["alloc collections", /5alloc|alloc\.\./],
  ["float formatting and parsing", /flt2dec|dec2flt/],
  ["core (fmt, iterators, other)", /4core|core\.\./],
  ["std, allocator (dlmalloc), hashbrown", /3std|dlmalloc|hashbrown|__rdl|__rust/],
];

/** `{total, groups: [[name, bytes]...]}` sorted by size, or null without a name section. */
export function codeByOrigin(bytes) {
  let o = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[o++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  const text = (length) => {
    const s = Buffer.from(bytes.subarray(o, o + length)).toString("utf8");
    o += length;
    return s;
  };
  let importedFunctions = 0;
  const bodies = [];
  const names = new Map();
  while (o < bytes.length) {
    const id = bytes[o++];
    const length = leb();
    const end = o + length;
    if (id === 2) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        text(leb());
        text(leb());
        const kind = bytes[o++];
        if (kind === 0) {
          leb();
          importedFunctions++;
        } else if (kind === 1) {
          o++;
          const flags = bytes[o++];
          leb();
          if (flags & 1) leb();
        } else if (kind === 2) {
          const flags = bytes[o++];
          leb();
          if (flags & 1) leb();
        } else if (kind === 3) {
          o += 2;
        }
      }
    } else if (id === 10) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const size = leb();
        bodies.push(size);
        o += size;
      }
    } else if (id === 0 && text(leb()) === "name") {
      while (o < end) {
        const sub = bytes[o++];
        const subLength = leb();
        const subEnd = o + subLength;
        if (sub === 1) {
          const count = leb();
          for (let i = 0; i < count; i++) {
            const index = leb();
            names.set(index, text(leb()));
          }
        }
        o = subEnd;
      }
    }
    o = end;
  }
  if (names.size === 0) return null;
  const sizes = new Map();
  let total = 0;
  bodies.forEach((size, i) => {
    const name = names.get(i + importedFunctions) ?? "";
    const group = (GROUPS.find(([, pattern]) => pattern.test(name)) ?? ["other"])[0];
    sizes.set(group, (sizes.get(group) ?? 0) + size);
    total += size;
  });
  return { total, groups: [...sizes].sort((a, b) => b[1] - a[1]) };
}
