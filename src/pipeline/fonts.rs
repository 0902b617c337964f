//! The one font pixfront draws text with: DejaVu Sans, compiled in (`assets/fonts/`, with its
//! licence). System fonts are never loaded, so an SVG's `<text>` and the `textOverlay` edit
//! render the same on a laptop, in the container and on Lambda.

use resvg::usvg::fontdb::Database;
use std::sync::{Arc, OnceLock};

/// The bundled font's family name.
pub const FAMILY: &str = "DejaVu Sans";

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// A font database holding only the bundled font. Every generic family maps to it, and usvg
/// falls back to the `serif` family for a name it does not find ("Arial", "Helvetica"), so all
/// text is drawn with it rather than left out.
pub fn database() -> Arc<Database> {
    static DB: OnceLock<Arc<Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = Database::new();
        db.load_font_data(FONT.to_vec());
        db.set_serif_family(FAMILY);
        db.set_sans_serif_family(FAMILY);
        db.set_monospace_family(FAMILY);
        db.set_cursive_family(FAMILY);
        db.set_fantasy_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// usvg options that draw text with the bundled font (the default family too).
pub fn svg_options() -> resvg::usvg::Options<'static> {
    resvg::usvg::Options {
        font_family: FAMILY.to_string(),
        fontdb: database(),
        ..Default::default()
    }
}
