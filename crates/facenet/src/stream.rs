//! Runs a [`Plan`] row by row: each layer (the input included) keeps only the few rows of its
//! output that the layers reading it still need (a ring), and each new row is handed on at
//! once, so a whole pass works in about 2 MB (for an 800×608 input) that stay in the caches,
//! instead of writing and re-reading a 12 MB tensor per layer.
//!
//! Rows are stored channels-innermost, with zero pixels left and right (the convolutions'
//! padding) and channel counts padded to whole vectors; rows above or below the picture read
//! as zeros.

use crate::kernels::{self, BlockRow, DenseRow, DwWeights, Isa, PwWeights, Res, Scratch};
use crate::net::Tensor;
use crate::plan::{Op, Plan, Residual, Window};

/// The largest kernel side read through the fixed-size row array.
pub const MAX_K: usize = 7;

/// One layer's output rows: a ring of the last `cap` rows, each `w` pixels of `cs` channels
/// between `border` zero pixels on each side.
struct Rows {
    h: usize,
    w: usize,
    cs: usize,
    border: usize,
    cap: usize,
    data: Vec<f32>,
    /// Rows computed so far.
    done: usize,
}

impl Rows {
    fn len(&self) -> usize {
        (self.w + 2 * self.border) * self.cs
    }

    /// Row `y` with its border; zeros above and below the picture.
    fn row<'a>(&'a self, y: isize, zeros: &'a [f32]) -> &'a [f32] {
        let len = self.len();
        match usize::try_from(y) {
            Ok(y) if y < self.h => &self.data[(y % self.cap) * len..][..len],
            _ => &zeros[..len],
        }
    }

    /// The pixels of row `y`, border excluded.
    fn interior(&self, y: usize) -> &[f32] {
        &self.data[(y % self.cap) * self.len() + self.border * self.cs..][..self.w * self.cs]
    }

    fn interior_mut(&mut self, y: usize) -> &mut [f32] {
        let (len, b, n) = (self.len(), self.border * self.cs, self.w * self.cs);
        &mut self.data[(y % self.cap) * len + b..][..n]
    }
}

/// The window a layer reads its source through.
fn window(op: &Op) -> Window {
    match op {
        Op::Dense(d) => d.win,
        Op::Block { dw: Some(dw), .. } => dw.win,
        _ => Window {
            k: 1,
            stride: 1,
            pads: [0; 4],
        },
    }
}

/// Source rows `lo..=hi` that output row `y` of a layer reads (window and residual).
fn needs(op: &Op, y: usize) -> (isize, isize) {
    let win = window(op);
    let lo = (y * win.stride) as isize - win.pads[0] as isize;
    let hi = lo + win.k as isize - 1;
    let y = y as isize;
    match op {
        Op::Block {
            residual: Residual::Same,
            ..
        } => (lo.min(y), hi.max(y)),
        Op::Block {
            residual: Residual::Pooled,
            ..
        } => (lo.min(2 * y), hi.max(2 * y + 1)),
        _ => (lo, hi),
    }
}

struct Exec<'p> {
    plan: &'p Plan,
    rows: Vec<Rows>,
    consumers: Vec<Vec<usize>>,
    zeros: Vec<f32>,
    scratch: Scratch,
    isa: Isa,
}

/// Runs `plan` on an `h` × `w` input of `c` channels whose row `y` `fill(y, row)` writes (`w`
/// pixels of `c` values); the outputs in the plan's order. The input is read row by row, as the
/// first layer needs it: it is never whole in memory. The kernels use `isa`.
pub fn run(
    plan: &Plan,
    isa: Isa,
    (h, w, c): (usize, usize, usize),
    fill: &mut dyn FnMut(usize, &mut [f32]),
) -> Result<Vec<Tensor>, String> {
    let layers = &plan.layers;
    if c != layers[0].c {
        return Err(format!(
            "the input has {c} channels, the network takes {}",
            layers[0].c
        ));
    }
    let n = layers.len();
    let mut size = vec![(h, w); n];
    let mut consumers = vec![Vec::new(); n];
    let mut border = vec![0; n];
    // Rows kept: enough for every reader's window; all of them for outputs.
    let mut cap = vec![1; n];
    for (i, l) in layers.iter().enumerate().skip(1) {
        let (h, w) = size[l.src];
        let win = window(&l.op);
        size[i] = win.out_size(h, w)?;
        let residual_size = match l.op {
            Op::Block {
                residual: Residual::Same,
                ..
            } => (h, w),
            Op::Block {
                residual: Residual::Pooled,
                ..
            } => (h / 2, w / 2),
            _ => size[i],
        };
        if residual_size != size[i] {
            return Err(format!("a residual of {residual_size:?} added to {:?}", size[i]));
        }
        consumers[l.src].push(i);
        border[l.src] = border[l.src].max(win.pads[1]).max(win.pads[3]);
        let (lo, hi) = needs(&l.op, 0);
        cap[l.src] = cap[l.src].max((hi - lo + 1) as usize);
    }
    for &o in &plan.outputs {
        cap[o] = size[o].0;
    }
    let rows: Vec<Rows> = (0..n)
        .map(|i| {
            let (h, w) = size[i];
            let (cs, border, cap) = (layers[i].stored(), border[i], cap[i].min(h).max(1));
            Rows {
                h,
                w,
                cs,
                border,
                cap,
                data: vec![0.0; cap * (w + 2 * border) * cs],
                done: 0,
            }
        })
        .collect();
    let widest = rows.iter().map(Rows::len).max().unwrap_or(0);
    let deepest = rows.iter().map(|r| r.cs).max().unwrap_or(0);
    let mut exec = Exec {
        plan,
        rows,
        consumers,
        zeros: vec![0.0; widest],
        scratch: Scratch::new(deepest),
        isa,
    };
    for y in 0..h {
        fill(y, exec.rows[0].interior_mut(y));
        exec.rows[0].done = y + 1;
        exec.push(0);
    }
    plan.outputs
        .iter()
        .map(|&o| {
            let r = &exec.rows[o];
            if r.done != r.h {
                return Err("an output was not computed".to_string());
            }
            let c = layers[o].c;
            let mut data = Vec::with_capacity(r.h * r.w * c);
            for y in 0..r.h {
                for px in r.interior(y).chunks_exact(r.cs) {
                    data.extend_from_slice(&px[..c]);
                }
            }
            Ok(Tensor::new(r.h, r.w, c, data))
        })
        .collect()
}

impl Exec<'_> {
    /// After a new row of layer `l`: every row its readers can now make, and so on down.
    fn push(&mut self, l: usize) {
        for i in 0..self.consumers[l].len() {
            let c = self.consumers[l][i];
            while self.ready(c) {
                self.produce(c);
                self.push(c);
            }
        }
    }

    fn ready(&self, c: usize) -> bool {
        let layer = &self.plan.layers[c];
        let (me, src) = (&self.rows[c], &self.rows[layer.src]);
        if me.done == me.h {
            return false;
        }
        let (_, hi) = needs(&layer.op, me.done);
        hi.min(src.h as isize - 1) < src.done as isize
    }

    /// Computes the next row of layer `c`.
    fn produce(&mut self, c: usize) {
        let layer = &self.plan.layers[c];
        let (before, after) = self.rows.split_at_mut(c);
        let (src, dst) = (&before[layer.src], &mut after[0]);
        let y = dst.done;
        let win = window(&layer.op);
        let top = (y * win.stride) as isize - win.pads[0] as isize;
        let mut window_rows: [&[f32]; MAX_K] = [&[]; MAX_K];
        for (ky, r) in window_rows.iter_mut().enumerate().take(win.k) {
            *r = src.row(top + ky as isize, &self.zeros);
        }
        let x_off = src.border - win.pads[1];
        let cout = dst.cs;
        let out = dst.interior_mut(y);
        match &layer.op {
            Op::Dense(d) => kernels::dense_row(
                self.isa,
                &DenseRow {
                    rows: &window_rows[..win.k],
                    cin: src.cs,
                    x_off,
                    stride: win.stride,
                    k: win.k,
                    w: &d.w,
                    bias: &d.bias,
                    cout,
                    relu: layer.relu,
                    #[cfg(target_arch = "x86_64")]
                    q16: &d.q16,
                },
                out,
                &mut self.scratch,
            ),
            Op::Block { dw, pw, residual } => {
                let res = match residual {
                    Residual::None => Res::None,
                    Residual::Same => Res::Same(src.interior(y)),
                    Residual::Pooled => Res::Pooled(src.interior(2 * y), src.interior(2 * y + 1), src.cs),
                };
                kernels::block_row(
                    self.isa,
                    &BlockRow {
                        rows: &window_rows[..win.k],
                        cin: src.cs,
                        x_off,
                        stride: win.stride,
                        dw: dw.as_ref().map(|d| DwWeights {
                            k: d.win.k,
                            w: &d.w,
                            bias: &d.bias,
                        }),
                        pw: PwWeights {
                            cout,
                            w: &pw.w,
                            bias: &pw.bias,
                            #[cfg(target_arch = "x86_64")]
                            pairs: &pw.pairs,
                        },
                        res,
                        relu: layer.relu,
                    },
                    out,
                    &mut self.scratch,
                )
            }
            Op::Input => unreachable!("the input is not computed"),
        }
        dst.done += 1;
    }
}
