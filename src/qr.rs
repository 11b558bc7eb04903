//! QR codes of session requests, rendered as SVG for the dApp page.

use qrcode::{EcLevel, QrCode};

use crate::json::push_u64;

/// Smallest width and height of the rendered SVG, in pixels.
const MIN_PIXELS: usize = 256;
/// Light modules around the code, which scanners need.
const QUIET_ZONE: usize = 4;

/// Renders `text` (a `walletwire:connect?...` URI) as a standalone SVG document.
///
/// Medium error correction survives glare and a slightly blurred phone camera; modules are
/// dark (`#111111`) on light (`#ffffff`) with the four-module quiet zone scanners need, each
/// module a whole number of pixels, at least 256 pixels across. The dark modules are one
/// path of one rectangle per horizontal run (`M<x> <y>h<run>v1h-<run>z`, in modules, scaled
/// by the view box). Returns `None` only for text too long for any QR code (about 2.3 KB at
/// this level), which a validated request never is.
pub fn svg(text: &str) -> Option<String> {
    let (width, dark) = modules(text)?;
    let side = width + 2 * QUIET_ZONE;
    let pixels = side * MIN_PIXELS.div_ceil(side);
    let mut out = String::with_capacity(256 + dark.len());
    out.push_str("<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"");
    push_u64(&mut out, pixels as u64);
    out.push_str("\" height=\"");
    push_u64(&mut out, pixels as u64);
    out.push_str("\" viewBox=\"0 0 ");
    push_u64(&mut out, side as u64);
    out.push(' ');
    push_u64(&mut out, side as u64);
    out.push_str("\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/><path fill=\"#111111\" d=\"");
    for (y, row) in dark.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if !row[x] {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|&&d| d).count();
            out.push('M');
            push_u64(&mut out, (x + QUIET_ZONE) as u64);
            out.push(' ');
            push_u64(&mut out, (y + QUIET_ZONE) as u64);
            out.push('h');
            push_u64(&mut out, run as u64);
            out.push_str("v1h-");
            push_u64(&mut out, run as u64);
            out.push('z');
            x += run;
        }
    }
    out.push_str("\"/></svg>");
    Some(out)
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

    /// The dark modules an SVG of [`svg`] draws, read back from its path.
    fn drawn(svg: &str) -> (usize, Vec<bool>) {
        let side: usize = svg
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("a view box");
        let width = side - 2 * QUIET_ZONE;
        let mut dark = vec![false; width * width];
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        for rect in path.split('z').filter(|r| !r.is_empty()) {
            let numbers: Vec<usize> = rect
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().unwrap())
                .collect();
            let [x, y, run, one, back] = numbers[..] else {
                panic!("unexpected rectangle {rect:?}");
            };
            assert_eq!((one, back), (1, run), "{rect:?}");
            assert_eq!(rect, format!("M{x} {y}h{run}v1h-{run}"));
            for dx in 0..run {
                let cell = &mut dark[(y - QUIET_ZONE) * width + x - QUIET_ZONE + dx];
                assert!(!*cell, "drawn twice");
                *cell = true;
            }
        }
        (width, dark)
    }

    #[test]
    fn the_svg_draws_exactly_the_dark_modules_and_scans() {
        for uri in [
            "walletwire:connect?v=3&m=u&k=AAAA&r=ws%3A%2F%2F127.0.0.1%3A8080".to_owned(),
            format!("walletwire:connect?r={}", "eyJ2IjoxLCJpZCI6".repeat(28)),
        ] {
            let (width, dark) = modules(&uri).unwrap();
            let svg = svg(&uri).unwrap();
            assert!(svg.starts_with("<?xml") && svg.ends_with("</svg>"));
            assert_eq!(drawn(&svg), (width, dark.clone()));
            assert_eq!(scan(width, &dark), uri);
            // Whole pixels per module, at least 256 across, square.
            let side = width + 2 * QUIET_ZONE;
            let pixels = side * 256_usize.div_ceil(side);
            assert!(pixels >= 256 && pixels - side < 256);
            assert!(svg.contains(&format!("width=\"{pixels}\" height=\"{pixels}\"")));
        }
    }

    #[test]
    fn too_long_for_a_qr_code() {
        assert!(svg(&"x".repeat(5000)).is_none());
    }
}
