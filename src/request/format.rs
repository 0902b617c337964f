//! Output format: `edits.toFormat` > `Accept` negotiation (AUTO_AVIF, AUTO_WEBP) > Default
//! `outputFormat`. The SVG special cases need the original's content type and are the
//! pipeline's.

use super::settings::RequestSettings;
use crate::edits::Format;

/// The q-value `accept` gives `mime` exactly (case-insensitive), if it lists it.
pub fn quality_of(accept: &str, mime: &str) -> Option<f32> {
    accept.split(',').find_map(|item| {
        let mut parts = item.split(';');
        let media = parts.next()?.trim();
        if !media.eq_ignore_ascii_case(mime) {
            return None;
        }
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok());
        Some(q.unwrap_or(0.0))
    })
}

/// The format `Accept` selects under the enabled AUTO_* switches. AVIF needs a q-value above 0;
/// WebP follows SIH (a substring test on `image/webp`, q-values ignored).
pub fn negotiate(accept: Option<&str>, config: &RequestSettings) -> Option<Format> {
    let accept = accept?;
    if config.auto_avif && quality_of(accept, "image/avif").is_some_and(|q| q > 0.0) {
        return Some(Format::Avif);
    }
    if config.auto_webp && accept.contains("image/webp") {
        return Some(Format::Webp);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values() {
        let a = "image/avif;q=0.8, image/webp, */*;q=0.1";
        assert_eq!(quality_of(a, "image/avif"), Some(0.8));
        assert_eq!(quality_of(a, "image/webp"), Some(1.0));
        assert_eq!(quality_of(a, "image/png"), None);
        assert_eq!(quality_of("image/avif; q=0", "image/avif"), Some(0.0));
        assert_eq!(quality_of("IMAGE/AVIF;q=bad", "image/avif"), Some(0.0));
    }

    #[test]
    fn negotiation() {
        let both = RequestSettings {
            auto_webp: true,
            auto_avif: true,
            ..RequestSettings::default()
        };
        let webp = RequestSettings {
            auto_webp: true,
            ..RequestSettings::default()
        };
        let browser = Some("image/avif,image/webp,image/apng,*/*;q=0.8");
        assert_eq!(negotiate(browser, &both), Some(Format::Avif));
        assert_eq!(negotiate(browser, &webp), Some(Format::Webp));
        assert_eq!(
            negotiate(Some("image/avif;q=0,image/webp"), &both),
            Some(Format::Webp)
        );
        assert_eq!(negotiate(Some("*/*"), &both), None);
        assert_eq!(negotiate(browser, &RequestSettings::default()), None);
        assert_eq!(negotiate(None, &both), None);
    }
}
