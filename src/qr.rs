//! QR codes of session requests, rendered as SVG for the dApp page.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Renders `text` (a `walletwire:connect?...` URI) as a standalone SVG document.
///
/// Medium error correction survives glare and a slightly blurred phone camera while keeping
/// a typical request (about 450 characters) at version 12; modules are dark on light with the
/// four-module quiet zone scanners need. Returns `None` only for text too long for any QR
/// code (about 2.3 KB at this level), which a validated request never is.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(256, 256)
            .dark_color(svg::Color("#111111"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

/// The module grid (true = dark) with its width, for tests and custom renderers.
pub fn modules(text: &str) -> Option<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((width, dark))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// Decodes a module grid with an independent decoder (rqrr), scaled up with a quiet zone.
    fn scan(width: usize, dark: &[bool]) -> String {
        let scale = 4;
        let quiet = 4;
        let size = (width + 2 * quiet) * scale;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
            let (mx, my) = (x / scale, y / scale);
            let inside = mx >= quiet && my >= quiet && mx < width + quiet && my < width + quiet;
            if inside && dark[(my - quiet) * width + (mx - quiet)] {
                0
            } else {
                255
            }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code found");
        grids[0].decode().expect("decodes").1
    }

    #[test]
    fn request_uri_scans_back_to_the_same_uri() {
        let uri = format!("walletwire:connect?r={}", "eyJ2IjoxLCJpZCI6".repeat(28));
        let (width, dark) = modules(&uri).unwrap();
        assert_eq!(scan(width, &dark), uri);
        let svg = svg(&uri).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("#111111"));
    }

    #[test]
    fn too_long_for_a_qr_code() {
        assert!(svg(&"x".repeat(5000)).is_none());
    }
}
