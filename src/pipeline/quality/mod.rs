//! `quality: "auto"`: the lowest encoder quality whose output still scores the level's
//! SSIMULACRA2 target against the unencoded (resized, edited) image.
//!
//! Bounded, deterministic work, decided from pixel counts only (never from the clock, so the
//! same request always gives the same bytes and ETag):
//! - at most [`MAX_TRIALS`] trial encodes, each decoded and scored: the first at the level's
//!   default quality, the second a step towards the target, the third interpolated between
//!   them (or extrapolated along their slope);
//! - each scored on a [`sample`] of at most `min(147 456, render pixels / 6)` pixels (the whole
//!   output when it fits, else its centre), where the render pixels are those the
//!   fixed-quality render itself decoded and wrote, so the search costs about as much as the
//!   render (docs/performance.md has the measured ratio);
//! - when the budget allows no sample of at least half the output (or of the largest size), or
//!   none of 128 × 128 pixels, or the output is animated, the level's default quality is used
//!   without a search.

mod sample;

use super::codecs::{self, EncodeOptions};
use super::picture::Picture;
use super::settings::PipelineSettings;
use super::sniff::InputFormat;
use crate::edits::{AutoLevel, Edit, Edits, Format, FormatOptions, Quality};
use crate::error::Error;

pub const MAX_TRIALS: usize = 3;
/// Largest sample scored per trial (384 × 384).
const MAX_SAMPLE_PIXELS: u64 = 147_456;
/// Each scoring may cover at most this fraction of the pixels the render itself handled.
const RENDER_SHARE: u64 = 6;
/// First move from the level's default quality.
const STEP: i32 = 10;

/// What the search chose, for `Server-Timing` and the access log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoQuality {
    pub level: AutoLevel,
    pub quality: u8,
    /// The sample's score at `quality`; `None` when no search ran (the level's default).
    pub score: Option<f64>,
    pub trials: u8,
}

/// A level's promise for one format: the SSIMULACRA2 score the sample must reach, the quality
/// used without a search (and tried first), and the qualities searched.
#[derive(Debug, Clone, Copy)]
struct Target {
    score: f64,
    default: u8,
    min: u8,
    max: u8,
}

/// Targets (reasons in docs/edits.md, "quality: auto"). `good` is set near the median score
/// of sharp's default quality (JPEG/WebP 80) on the bytes benchmark's corpus at 640 px, so a
/// searched image looks about as good as sharp's typical output (AVIF's is not calibrated);
/// `best` is near visually lossless, `eco` trades visible but mild loss for bytes.
fn target(format: Format, level: AutoLevel) -> Option<Target> {
    let t = |score, default, min, max| {
        Some(Target {
            score,
            default,
            min,
            max,
        })
    };
    match (format, level) {
        (Format::Jpeg, AutoLevel::Best) => t(87.0, 90, 40, 97),
        (Format::Jpeg, AutoLevel::Good) => t(81.5, 80, 30, 95),
        (Format::Jpeg, AutoLevel::Eco) => t(75.0, 65, 20, 90),
        (Format::Webp, AutoLevel::Best) => t(85.0, 90, 40, 97),
        (Format::Webp, AutoLevel::Good) => t(78.0, 80, 30, 95),
        (Format::Webp, AutoLevel::Eco) => t(72.0, 65, 20, 90),
        (Format::Avif, AutoLevel::Best) => t(85.0, 65, 30, 90),
        (Format::Avif, AutoLevel::Good) => t(78.0, 50, 20, 85),
        (Format::Avif, AutoLevel::Eco) => t(72.0, 40, 10, 80),
        _ => None,
    }
}

/// The quality the encoder options end up with: the format's own `quality`, else a top-level
/// `quality` edit (the query's `quality=`), else `AUTO_QUALITY`. A fixed one is written into
/// `options`; an `auto` one is returned when `format` can be searched (JPEG, WebP unless
/// lossless, AVIF) and otherwise dropped, so the format keeps its own default.
pub fn resolve(
    options: &mut FormatOptions,
    edits: &Edits,
    format: Format,
    config: &PipelineSettings,
) -> Option<AutoLevel> {
    let top_level = || {
        edits.iter().rev().find_map(|e| match e {
            Edit::Quality(q) => Some(*q),
            _ => None,
        })
    };
    let asked = options
        .quality
        .or_else(top_level)
        .or(config.auto_quality.map(Quality::Auto));
    match asked {
        Some(Quality::Auto(level)) => {
            let lossless = options.lossless == Some(true) || options.near_lossless == Some(true);
            options.quality = None;
            let searched = target(format, level).is_some() && !lossless;
            if searched {
                tune(options, format);
            }
            searched.then_some(level)
        }
        fixed => {
            options.quality = fixed;
            None
        }
    }
}

/// Encoder settings that pay for themselves, for `auto` outputs only (a fixed quality keeps
/// sharp's defaults, byte for byte). Measured on the bytes corpus at 640 px
/// (docs/performance.md): progressive JPEG is 2 % smaller with the same pixels for about twice
/// the encode time; WebP method 5 is 2 % smaller at an equal score for 14 % more encode time
/// (method 6: 4 % for twice the time), and sharp YUV (`smartSubsample`) 7 % smaller again, most
/// on the saturated busy photos that must grow to reach the target. Not used: mozjpeg's
/// trellis (1–3 % for 4–6× the encode time) and jpegli (no smaller at these scores).
/// Options the request sets itself are kept.
fn tune(options: &mut FormatOptions, format: Format) {
    match format {
        Format::Jpeg => {
            options.progressive.get_or_insert(true);
        }
        Format::Webp => {
            options.effort.get_or_insert(5);
            options
                .other
                .entry("smartSubsample")
                .or_insert(serde_json::Value::Bool(true));
        }
        _ => {}
    }
}

/// The level's quality without a search (animations, renders too small to search).
pub fn fallback(format: Format, level: AutoLevel) -> AutoQuality {
    AutoQuality {
        level,
        quality: target(format, level).map_or(80, |t| t.default),
        score: None,
        trials: 0,
    }
}

/// Searches the quality for `picture` as `format` with `settings` (whose quality is ignored).
/// `render_pixels`: the pixels the render decoded plus those it outputs (the budget's unit).
pub fn choose(
    picture: &Picture,
    format: Format,
    settings: &EncodeOptions,
    level: AutoLevel,
    render_pixels: u64,
    config: &PipelineSettings,
) -> Result<AutoQuality, Error> {
    let (Some(t), false) = (target(format, level), picture.is_animated()) else {
        return Ok(fallback(format, level));
    };
    let budget = (render_pixels / RENDER_SHARE).min(MAX_SAMPLE_PIXELS);
    // A centre crop of less than half the output (unless it is the largest sample) misjudged
    // text and small pictures by up to 20 points on the bytes corpus: no search then.
    let output = picture.width() as u64 * picture.height() as u64;
    if budget < (output / 2).min(MAX_SAMPLE_PIXELS) {
        return Ok(fallback(format, level));
    }
    let Some(sample) = sample::take(picture, budget) else {
        return Ok(fallback(format, level));
    };
    let input = match format {
        Format::Jpeg => InputFormat::Jpeg,
        Format::Webp => InputFormat::Webp,
        _ => InputFormat::Avif,
    };
    let mut trial_settings = settings.clone();
    trial_settings.exif = None;
    // Trials need the score, not the bytes: a baseline JPEG has the progressive one's pixels
    // for half the encode time, and WebP method 4 scores as method 5 does (docs/performance.md)
    // for less; the final encode keeps the tuned settings.
    match format {
        Format::Jpeg => trial_settings.options.progressive = Some(false),
        Format::Webp => {
            let method = settings.effort.or(settings.options.effort).unwrap_or(4);
            trial_settings.effort = Some(method.min(4));
        }
        _ => {}
    }
    let mut score_at = |q: u8| -> Result<f64, Error> {
        trial_settings.options.quality = Some(Quality::Fixed(q));
        let bytes = codecs::encode(&sample.picture, format, &trial_settings)?;
        let decoded = codecs::decode(&bytes, input, Default::default(), config)?;
        let rgb = codecs::rgb_over_black(&decoded.picture.frames[0].pixels);
        // A size mismatch cannot happen for these encoders; it scores 0 (never chosen).
        Ok(sample.reference.score(&rgb).unwrap_or(0.0))
    };
    let (quality, score, trials) = search(&t, &mut score_at)?;
    Ok(AutoQuality {
        level,
        quality,
        score: Some(score),
        trials,
    })
}

/// At most [`MAX_TRIALS`] scores; returns the lowest tried quality that reached the target
/// (else the best estimate above the highest tried, with that one's score), its score and
/// the number of trials.
fn search(t: &Target, score_at: &mut impl FnMut(u8) -> Result<f64, Error>) -> Result<(u8, f64, u8), Error> {
    let clamp = |q: f64| q.round().clamp(t.min as f64, t.max as f64) as u8;
    let mut tried: Vec<(u8, f64)> = Vec::with_capacity(MAX_TRIALS);
    let first = t.default;
    tried.push((first, score_at(first)?));
    let up = tried[0].1 < t.score;
    let second = clamp(first as f64 + if up { STEP } else { -STEP } as f64);
    if second != first {
        tried.push((second, score_at(second)?));
        let ((q1, s1), (q2, s2)) = (tried[0], tried[1]);
        // Score per quality step, floored so a flat stretch still moves a little.
        let slope = ((s2 - s1) / (q2 as f64 - q1 as f64)).max(0.05);
        let third = clamp(q2 as f64 + (t.score - s2) / slope);
        let (lo, hi) = if q1 < q2 { (q1, q2) } else { (q2, q1) };
        let bracketed = (s1 >= t.score) != (s2 >= t.score);
        // Between the two when they bracket the target (excluding both), else beyond the
        // second in the direction it went.
        let third = if bracketed {
            third.clamp(lo + 1, hi.saturating_sub(1).max(lo + 1))
        } else {
            third
        };
        if !tried.iter().any(|(q, _)| *q == third) && (!bracketed || hi - lo > 1) {
            tried.push((third, score_at(third)?));
        }
    }
    let trials = tried.len() as u8;
    if let Some(&(q, s)) = tried
        .iter()
        .filter(|(_, s)| *s >= t.score)
        .min_by_key(|(q, _)| *q)
    {
        return Ok((q, s, trials));
    }
    // None reached the target: the slope's estimate above the highest tried (untested), or the
    // top of the range.
    let &(q_top, s_top) = tried.iter().max_by_key(|(q, _)| *q).unwrap_or(&(t.max, 0.0));
    let estimate = match tried.iter().filter(|(q, _)| *q != q_top).max_by_key(|(q, _)| *q) {
        Some(&(q, s)) if s_top > s => q_top as f64 + (t.score - s_top) * (q_top - q) as f64 / (s_top - s),
        _ => t.max as f64,
    };
    Ok((clamp(estimate.max(q_top as f64)), s_top, trials))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up encoder whose score rises linearly with quality.
    fn linear(at_80: f64, per_q: f64) -> impl FnMut(u8) -> Result<f64, Error> {
        move |q| Ok(at_80 + (q as f64 - 80.0) * per_q)
    }

    #[test]
    fn search_finds_the_lowest_quality_reaching_the_target() {
        let t = target(Format::Jpeg, AutoLevel::Good).unwrap();
        let mut calls = 0;
        let mut easy = linear(90.0, 0.5);
        let (q, s, n) = search(&t, &mut |q| {
            calls += 1;
            easy(q)
        })
        .unwrap();
        assert!(s >= t.score && q < 80 && n as usize <= MAX_TRIALS && calls == n);
        // Linear scores: interpolation lands on the exact quality (81.5 = 90 + (q − 80) × 0.5).
        assert_eq!(q, 63);
        let (q, s, _) = search(&t, &mut linear(78.0, 0.5)).unwrap();
        assert!(q > 80 && s >= t.score, "{q} {s}");
        // Never reachable: the top of the range.
        let (q, _, n) = search(&t, &mut linear(40.0, 0.1)).unwrap();
        assert_eq!((q, n), (t.max, 3));
    }

    #[test]
    fn resolve_follows_the_precedence() {
        let config = PipelineSettings {
            auto_quality: Some(AutoLevel::Eco),
            ..Default::default()
        };
        let none = Edits::default();
        let mut o = FormatOptions::default();
        assert_eq!(
            resolve(&mut o, &none, Format::Jpeg, &config),
            Some(AutoLevel::Eco)
        );
        let mut o = FormatOptions {
            quality: Some(Quality::Fixed(70)),
            ..Default::default()
        };
        assert_eq!(resolve(&mut o, &none, Format::Jpeg, &config), None);
        assert_eq!(o.quality, Some(Quality::Fixed(70)));
        // PNG has no auto: its own default stays (no palette).
        let mut o = FormatOptions::default();
        assert_eq!(resolve(&mut o, &none, Format::Png, &config), None);
        assert_eq!(o.quality, None);
        let mut o = FormatOptions {
            lossless: Some(true),
            ..Default::default()
        };
        assert_eq!(resolve(&mut o, &none, Format::Webp, &config), None);
    }
}
