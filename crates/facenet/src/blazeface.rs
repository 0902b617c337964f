//! MediaPipe BlazeFace ("back" model, trained on 256×256 inputs for faces that are small in
//! the frame) on [`super::net`]: input scaling, anchor decoding and weighted non-maximum
//! suppression, as MediaPipe's `TensorsToDetectionsCalculator` and
//! `NonMaxSuppressionCalculator` (WEIGHTED) do for `face_detection_back.tflite`.
//!
//! pixfront ships the model as `models/face_detection_back_256x256_barracuda.onnx` (Apache-2.0,
//! see models/README.md) and compiles it into the binary.

use crate::net::Net;

/// The network's total stride: input sides must be multiples of it.
pub const STRIDE: u32 = 32;

/// A face box in pixels of the image given to [`BlazeFace::detect`], with the model's score
/// (0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub score: f32,
}

impl Detection {
    fn area(&self) -> f32 {
        (self.x1 - self.x0).max(0.0) * (self.y1 - self.y0).max(0.0)
    }

    pub fn iou(&self, o: &Detection) -> f32 {
        let w = (self.x1.min(o.x1) - self.x0.max(o.x0)).max(0.0);
        let h = (self.y1.min(o.y1) - self.y0.max(o.y0)).max(0.0);
        let inter = w * h;
        let union = self.area() + o.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

#[derive(Debug)]
pub struct BlazeFace {
    net: Net,
}

impl BlazeFace {
    pub fn load(model: &[u8]) -> Result<BlazeFace, String> {
        let graph = crate::onnx::parse(model)?;
        if graph.outputs.len() != 4 {
            return Err("expected BlazeFace's four outputs".into());
        }
        Ok(BlazeFace {
            net: Net::from_graph(&graph)?,
        })
    }

    /// Every anchor whose score is at least `min_score`, before suppression, in pixels of the
    /// `w` × `h` RGBA picture `rgba` (row-major). The network sees it as [`input_row`] makes
    /// it, whatever its size (not only 256 × 256).
    pub fn detect(&self, rgba: &[u8], w: usize, h: usize, min_score: f32) -> Result<Vec<Detection>, String> {
        if rgba.len() < w * h * 4 {
            return Err("the picture is smaller than its size says".into());
        }
        let s = STRIDE as usize;
        let (pw, ph) = (w.div_ceil(s).max(1) * s, h.div_ceil(s).max(1) * s);
        let (ih, iw) = (ph as f32, pw as f32);
        let out = self
            .net
            .run_rows((ph, pw, 3), |y, row| input_row(rgba, w, h, y, row))?;
        // Outputs: scores of the stride-16 grid, of the stride-32 grid, then their regressors
        // (16 values per anchor: box centre offset x, y, width, height, then 6 key points).
        let mut found = Vec::new();
        for (scores, boxes) in [(&out[0], &out[2]), (&out[1], &out[3])] {
            let anchors = scores.c;
            if (boxes.h, boxes.w, boxes.c) != (scores.h, scores.w, anchors * 16)
                || scores.h == 0
                || scores.w == 0
            {
                return Err("unexpected BlazeFace head shapes".into());
            }
            // Anchors sit at cell centres; with MediaPipe's `fixed_anchor_size` they are 1×1 in
            // normalised units, so the regressors are plain offsets and sizes in input pixels
            // (MediaPipe divides by x_scale = 256 and multiplies by the 256 px input back).
            let (sx, sy) = (iw / scores.w as f32, ih / scores.h as f32);
            // Compare logits, not sigmoids: only anchors above the threshold pay for exp().
            let min_logit = (min_score / (1.0 - min_score)).ln();
            for (i, &logit) in scores.data.iter().enumerate() {
                if logit < min_logit {
                    continue;
                }
                let cell = i / anchors;
                let (cx, cy) = (
                    ((cell % scores.w) as f32 + 0.5) * sx,
                    ((cell / scores.w) as f32 + 0.5) * sy,
                );
                let r = &boxes.data[i * 16..][..4];
                let (x, y, w, h) = (cx + r[0], cy + r[1], r[2], r[3]);
                // MediaPipe clips the logit at ±100 (score_clipping_thresh) before the sigmoid.
                let score = 1.0 / (1.0 + (-logit.clamp(-100.0, 100.0)).exp());
                if w > 0.0 && h > 0.0 {
                    found.push(Detection {
                        x0: x - w / 2.0,
                        y0: y - h / 2.0,
                        x1: x + w / 2.0,
                        y1: y + h / 2.0,
                        score,
                    });
                }
            }
        }
        Ok(found)
    }
}

/// Row `y` of the network input for a `w` × `h` RGBA picture, `out.len() / 3` pixels wide:
/// RGB scaled to −1…1 (BlazeFace's training range), transparent pixels over white (as a viewer
/// shows them), and past the picture's right and bottom edges (the input's sides are rounded
/// up to multiples of [`STRIDE`]) mid-grey (0), which reads as a flat area.
pub fn input_row(rgba: &[u8], w: usize, h: usize, y: usize, out: &mut [f32]) {
    // Opaque pixels (nearly all) through a table: the arithmetic below, with its division,
    // took 5 % of a pass.
    static OPAQUE: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    let table = OPAQUE.get_or_init(|| std::array::from_fn(|v| v as f32 / 127.5 - 1.0));
    out.fill(0.0);
    if y >= h {
        return;
    }
    for (o, p) in out
        .chunks_exact_mut(3)
        .zip(rgba[y * w * 4..][..w * 4].chunks_exact(4))
    {
        if p[3] == 255 {
            o.copy_from_slice(&[table[p[0] as usize], table[p[1] as usize], table[p[2] as usize]]);
            continue;
        }
        let a = p[3] as f32 / 255.0;
        for c in 0..3 {
            let v = p[c] as f32 * a + 255.0 * (1.0 - a);
            o[c] = v / 127.5 - 1.0;
        }
    }
}

/// MediaPipe's weighted non-maximum suppression: the best remaining box absorbs every box that
/// overlaps it by more than `min_iou`, and the result is their score-weighted mean (the best
/// score is kept). Averaging the many anchors that fire on one face gives a steadier box than
/// keeping one of them.
pub fn weighted_nms(mut dets: Vec<Detection>, min_iou: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(best) = dets.first().copied() {
        let (cluster, rest): (Vec<Detection>, Vec<Detection>) = dets
            .into_iter()
            .partition(|d| d.iou(&best) > min_iou || *d == best);
        dets = rest;
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        let mean = |f: fn(&Detection) -> f32| cluster.iter().map(|d| f(d) * d.score).sum::<f32>() / total;
        out.push(Detection {
            x0: mean(|d| d.x0),
            y0: mean(|d| d.y0),
            x1: mean(|d| d.x1),
            y1: mean(|d| d.y1),
            score: best.score,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x0: f32, score: f32) -> Detection {
        Detection {
            x0,
            y0: 0.0,
            x1: x0 + 10.0,
            y1: 10.0,
            score,
        }
    }

    #[test]
    fn nms_merges_overlaps_and_keeps_separate_faces() {
        let out = weighted_nms(vec![det(0.0, 0.9), det(2.0, 0.6), det(50.0, 0.7)], 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        // Score-weighted mean of 0 and 2.
        assert!((out[0].x0 - 0.8).abs() < 1e-5, "{:?}", out[0]);
        assert_eq!(out[1].x0, 50.0);
    }

    #[test]
    fn input_rows_are_scaled_and_padded() {
        let rgba: Vec<u8> = [[255, 0, 0, 255], [0, 0, 0, 0]].concat().repeat(3);
        let mut row = vec![9.0; 4 * 3];
        input_row(&rgba, 2, 3, 1, &mut row);
        // Red; transparent black over white; then padding.
        assert_eq!(
            row,
            [1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        input_row(&rgba, 2, 3, 3, &mut row);
        assert!(row.iter().all(|&v| v == 0.0));
        // Opaque pixels (the table) and half-transparent ones (the arithmetic) agree.
        let rgba = [10, 128, 255, 255, 10, 128, 255, 254];
        let mut row = vec![0.0; 6];
        input_row(&rgba, 2, 1, 0, &mut row);
        for c in 0..3 {
            assert!((row[c] - row[3 + c]).abs() < 0.01, "{row:?}");
        }
        assert_eq!(row[..3], [10.0 / 127.5 - 1.0, 128.0 / 127.5 - 1.0, 1.0]);
    }
}
