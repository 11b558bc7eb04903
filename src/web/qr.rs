//! `qrSvg`: any text (a link) as an SVG QR code, in the entries that show links (dApp, direct).

use wasm_bindgen::prelude::*;

/// Renders any text (a link) as an SVG QR code; `null` when too long.
#[wasm_bindgen(js_name = qrSvg, skip_typescript)]
pub fn qr_svg(text: &str) -> Option<String> {
    crate::qr::svg(text)
}

#[wasm_bindgen(typescript_custom_section)]
const QR_TYPES: &'static str = r#"
/** Any text as an SVG QR code; `null` when too long. */
export function qrSvg(text: string): string | null;
"#;
