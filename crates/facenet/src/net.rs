//! A small CPU inference engine for the convolutional network in an ONNX graph: dense and
//! depthwise convolutions, ReLU, addition, 2×2 max pooling and channel padding — every operator
//! BlazeFace uses, and nothing else (any other operator is a load error).
//!
//! Why not `tract`: it was measured (docs/faces.md) to add minutes to every cold build, and CI
//! builds pixfront three times; this engine needs one small crate (`matrixmultiply`, which
//! picks AVX2/FMA or NEON kernels at run time) and compiles in seconds.
//!
//! Layout: every activation is stored height × width × channels (HWC), channels innermost, so
//! a 1×1 convolution is one matrix product and a depthwise one a vectorisable loop. Because of
//! that, the graph's `Transpose` nodes (NHWC input → NCHW, NCHW heads → NHWC) and its final
//! `Reshape` (heads → [1, anchors, values]) change nothing in memory and run as identities.
//! The graph is fully convolutional, so it runs on any input whose sides are multiples of 32
//! (the network's total stride), not only the size it was exported for: a whole proxy image is
//! examined in one pass, without tiles.

use crate::onnx::{Graph, Initializer, Node};
use std::collections::HashMap;

/// An activation: `h` rows of `w` pixels of `c` channels (HWC). A tensor with `h == w == 0`
/// and `c > 0` is "`c` zero channels of any size", produced by `ConstantOfShape` to pad
/// channels before a residual addition.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn new(h: usize, w: usize, c: usize, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(data.len(), h * w * c);
        Tensor { h, w, c, data }
    }
}

/// Convolution geometry: square kernel `k`, same stride both ways, pads top/left/bottom/right.
#[derive(Debug, Clone, Copy)]
struct Window {
    k: usize,
    stride: usize,
    pads: [usize; 4],
}

impl Window {
    fn out_size(&self, h: usize, w: usize) -> Result<(usize, usize), String> {
        let ph = h + self.pads[0] + self.pads[2];
        let pw = w + self.pads[1] + self.pads[3];
        if ph < self.k || pw < self.k {
            return Err(format!("input {h}×{w} is smaller than the kernel"));
        }
        Ok(((ph - self.k) / self.stride + 1, (pw - self.k) / self.stride + 1))
    }
}

#[derive(Debug)]
enum Op {
    /// Dense convolution; weights as [ky][kx][ci][co] so an image patch is one GEMM row.
    Conv {
        win: Window,
        cin: usize,
        cout: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    },
    /// One filter per channel; weights as [ky][kx][c].
    Depthwise {
        win: Window,
        c: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    },
    Relu,
    Add,
    MaxPool2,
    /// `ConstantOfShape` of zeros with this many channels.
    Zeros(usize),
    /// Channel concatenation.
    Concat,
    Identity,
}

#[derive(Debug)]
struct Step {
    op: Op,
    inputs: Vec<usize>,
    output: usize,
}

/// A loaded network: steps in topological order over numbered value slots.
#[derive(Debug)]
pub struct Net {
    steps: Vec<Step>,
    slots: usize,
    input: usize,
    outputs: Vec<usize>,
    /// How many steps read each slot (graph outputs count once more, so they are kept).
    uses: Vec<usize>,
}

fn window(node: &Node, k: usize) -> Result<Window, String> {
    let strides = node.ints("strides").unwrap_or(&[1, 1]);
    let pads = node.ints("pads").unwrap_or(&[0, 0, 0, 0]);
    let dil = node.ints("dilations").unwrap_or(&[1, 1]);
    if strides.len() != 2 || strides[0] != strides[1] || strides[0] < 1 || pads.len() != 4 || dil != [1, 1] {
        return Err(format!("unsupported {} geometry", node.op_type));
    }
    let p = |i: usize| usize::try_from(pads[i]).map_err(|_| "negative pad".to_string());
    Ok(Window {
        k,
        stride: strides[0] as usize,
        pads: [p(0)?, p(1)?, p(2)?, p(3)?],
    })
}

fn conv(node: &Node, inits: &HashMap<String, Initializer>) -> Result<Op, String> {
    let w = node
        .inputs
        .get(1)
        .and_then(|n| inits.get(n))
        .ok_or("Conv without constant weights")?;
    let [cout, cin_g, kh, kw] = w.dims[..] else {
        return Err("Conv weights are not 4-D".into());
    };
    if kh != kw {
        return Err("non-square kernel".into());
    }
    let bias = match node.inputs.get(2).filter(|n| !n.is_empty()) {
        Some(n) => inits.get(n).ok_or("Conv bias is not constant")?.values.clone(),
        None => vec![0.0; cout],
    };
    if bias.len() != cout {
        return Err("Conv bias size".into());
    }
    let win = window(node, kh)?;
    let group = node.int("group").unwrap_or(1) as usize;
    let k = kh;
    // ONNX weights are [co][ci][ky][kx]; reorder to what the kernels read.
    if group == 1 {
        let mut weights = vec![0.0; w.values.len()];
        for co in 0..cout {
            for ci in 0..cin_g {
                for ky in 0..k {
                    for kx in 0..k {
                        weights[((ky * k + kx) * cin_g + ci) * cout + co] =
                            w.values[((co * cin_g + ci) * k + ky) * k + kx];
                    }
                }
            }
        }
        Ok(Op::Conv {
            win,
            cin: cin_g,
            cout,
            weights,
            bias,
        })
    } else if group == cout && cin_g == 1 {
        let mut weights = vec![0.0; w.values.len()];
        for c in 0..cout {
            for i in 0..k * k {
                weights[i * cout + c] = w.values[c * k * k + i];
            }
        }
        Ok(Op::Depthwise {
            win,
            c: cout,
            weights,
            bias,
        })
    } else {
        Err(format!("grouped convolution (group {group}) is not supported"))
    }
}

impl Net {
    /// Compiles `graph`; an operator or attribute this engine does not implement is an error.
    pub fn from_graph(graph: &Graph) -> Result<Net, String> {
        let inits = &graph.initializers;
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let input_name = graph.inputs.first().ok_or("the graph has no input")?;
        slot_of.insert(input_name, 0);
        let mut steps = Vec::new();
        for node in &graph.nodes {
            let op = match node.op_type.as_str() {
                "Conv" => conv(node, inits)?,
                "Relu" => Op::Relu,
                "Add" => Op::Add,
                "MaxPool" => {
                    let ok = node.ints("kernel_shape") == Some(&[2, 2])
                        && node.ints("strides") == Some(&[2, 2])
                        && node.ints("pads").is_none_or(|p| p.iter().all(|&v| v == 0));
                    if !ok {
                        return Err("only 2×2/2 max pooling is supported".into());
                    }
                    Op::MaxPool2
                }
                "ConstantOfShape" => {
                    // Its `value` attribute is absent in these graphs, which means zeros.
                    if node.attrs.contains_key("value") {
                        return Err("ConstantOfShape with a value".into());
                    }
                    let shape = node
                        .inputs
                        .first()
                        .and_then(|n| inits.get(n))
                        .ok_or("dynamic shape")?;
                    match shape.values[..] {
                        [_, c, _, _] if c >= 1.0 => Op::Zeros(c as usize),
                        _ => return Err("ConstantOfShape is not NCHW".into()),
                    }
                }
                "Concat" if node.int("axis") == Some(1) => Op::Concat,
                "Transpose" => match node.ints("perm") {
                    Some([0, 3, 1, 2]) | Some([0, 2, 3, 1]) => Op::Identity,
                    _ => return Err("unsupported Transpose".into()),
                },
                "Reshape" => Op::Identity,
                other => return Err(format!("unsupported operator {other}")),
            };
            // Constant inputs were folded into the op above; the others are slots.
            let inputs = match op {
                Op::Zeros(_) => &node.inputs[..0],
                Op::Conv { .. } | Op::Depthwise { .. } | Op::Identity => &node.inputs[..1],
                _ => &node.inputs[..],
            };
            let inputs = inputs
                .iter()
                .map(|n| {
                    slot_of
                        .get(n.as_str())
                        .copied()
                        .ok_or(format!("{n} is used before it is made"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = slot_of.len();
            let out_name = node.outputs.first().ok_or("a node without output")?;
            slot_of.insert(out_name, output);
            steps.push(Step { op, inputs, output });
        }
        let outputs = graph
            .outputs
            .iter()
            .map(|n| {
                slot_of
                    .get(n.as_str())
                    .copied()
                    .ok_or(format!("output {n} is not computed"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut uses = vec![0; slot_of.len()];
        for s in &steps {
            for &i in &s.inputs {
                uses[i] += 1;
            }
        }
        for &o in &outputs {
            uses[o] += 1;
        }
        Ok(Net {
            steps,
            slots: slot_of.len(),
            input: 0,
            outputs,
            uses,
        })
    }

    /// Runs the network on `input` (HWC); the graph outputs, in the graph's order.
    pub fn run(&self, input: Tensor) -> Result<Vec<Tensor>, String> {
        let mut values: Vec<Option<Tensor>> = (0..self.slots).map(|_| None).collect();
        let mut left = self.uses.clone();
        values[self.input] = Some(input);
        for step in &self.steps {
            // An input read for the last time is moved out, so element-wise ops reuse its buffer
            // and large early activations are freed as soon as possible.
            let mut args: Vec<Arg> = Vec::with_capacity(step.inputs.len());
            for &i in &step.inputs {
                left[i] -= 1;
                let a = match left[i] {
                    0 => Arg::Owned(values[i].take().ok_or("value used twice")?),
                    _ => Arg::Shared(i),
                };
                args.push(a);
            }
            let out = match &step.op {
                Op::Conv {
                    win,
                    cin,
                    cout,
                    weights,
                    bias,
                } => {
                    let x = borrow(&args[0], &values)?;
                    conv_dense(x, *win, *cin, *cout, weights, bias)?
                }
                Op::Depthwise {
                    win,
                    c,
                    weights,
                    bias,
                } => {
                    let x = borrow(&args[0], &values)?;
                    conv_depthwise(x, *win, *c, weights, bias)?
                }
                Op::Relu => {
                    let mut t = owned(args.swap_remove(0), &values)?;
                    t.data.iter_mut().for_each(|v| *v = v.max(0.0));
                    t
                }
                Op::Add => {
                    let b = args.pop().ok_or("Add needs two inputs")?;
                    let mut a = owned(args.pop().ok_or("Add needs two inputs")?, &values)?;
                    let b = borrow(&b, &values)?;
                    if (a.h, a.w, a.c) != (b.h, b.w, b.c) {
                        return Err(format!(
                            "Add of {}×{}×{} and {}×{}×{}",
                            a.h, a.w, a.c, b.h, b.w, b.c
                        ));
                    }
                    a.data.iter_mut().zip(&b.data).for_each(|(x, y)| *x += y);
                    a
                }
                Op::MaxPool2 => max_pool2(borrow(&args[0], &values)?),
                Op::Zeros(c) => Tensor::new(0, 0, *c, Vec::new()),
                Op::Concat => {
                    let parts = args
                        .iter()
                        .map(|a| borrow(a, &values))
                        .collect::<Result<Vec<_>, _>>()?;
                    concat_channels(&parts)?
                }
                Op::Identity => owned(args.swap_remove(0), &values)?,
            };
            values[step.output] = Some(out);
        }
        self.outputs
            .iter()
            .map(|&o| {
                values[o]
                    .clone()
                    .ok_or_else(|| "an output was not computed".to_string())
            })
            .collect()
    }
}

enum Arg {
    Owned(Tensor),
    Shared(usize),
}

fn borrow<'a>(a: &'a Arg, values: &'a [Option<Tensor>]) -> Result<&'a Tensor, String> {
    match a {
        Arg::Owned(t) => Ok(t),
        Arg::Shared(i) => values[*i].as_ref().ok_or_else(|| "missing value".to_string()),
    }
}

fn owned(a: Arg, values: &[Option<Tensor>]) -> Result<Tensor, String> {
    match a {
        Arg::Owned(t) => Ok(t),
        Arg::Shared(i) => values[i].clone().ok_or_else(|| "missing value".to_string()),
    }
}

/// `c[m×n] += a[m×k] · b[k×n]`, all row-major and contiguous.
fn gemm_acc(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // SAFETY: the slices are at least as long as the strides below address (asserted above).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            1.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Output rows handled per im2col band: bounds the patch buffer (a 640 px input would otherwise
/// need a 23 MB one for BlazeFace's first 5×5 convolution).
const BAND_ROWS: usize = 16;

fn conv_dense(
    x: &Tensor,
    win: Window,
    cin: usize,
    cout: usize,
    weights: &[f32],
    bias: &[f32],
) -> Result<Tensor, String> {
    if x.c != cin {
        return Err(format!("Conv expects {cin} channels, got {}", x.c));
    }
    let (oh, ow) = win.out_size(x.h, x.w)?;
    let mut out: Vec<f32> = bias.iter().copied().cycle().take(oh * ow * cout).collect();
    if win.k == 1 && win.stride == 1 && win.pads == [0; 4] {
        gemm_acc(oh * ow, cin, cout, &x.data, weights, &mut out);
        return Ok(Tensor::new(oh, ow, cout, out));
    }
    // im2col by bands of output rows: each output pixel's k×k×cin patch becomes a row, zeros
    // where the window hangs over the padding.
    let kk = win.k * win.k * cin;
    let mut cols = vec![0.0f32; BAND_ROWS * ow * kk];
    for oy0 in (0..oh).step_by(BAND_ROWS) {
        let rows = BAND_ROWS.min(oh - oy0);
        let cols = &mut cols[..rows * ow * kk];
        cols.fill(0.0);
        for r in 0..rows {
            let oy = oy0 + r;
            for ox in 0..ow {
                let patch = &mut cols[(r * ow + ox) * kk..][..kk];
                for ky in 0..win.k {
                    let Some(iy) = (oy * win.stride + ky)
                        .checked_sub(win.pads[0])
                        .filter(|&v| v < x.h)
                    else {
                        continue;
                    };
                    for kx in 0..win.k {
                        let Some(ix) = (ox * win.stride + kx)
                            .checked_sub(win.pads[1])
                            .filter(|&v| v < x.w)
                        else {
                            continue;
                        };
                        patch[(ky * win.k + kx) * cin..][..cin]
                            .copy_from_slice(&x.data[(iy * x.w + ix) * cin..][..cin]);
                    }
                }
            }
        }
        gemm_acc(
            rows * ow,
            kk,
            cout,
            cols,
            weights,
            &mut out[oy0 * ow * cout..][..rows * ow * cout],
        );
    }
    Ok(Tensor::new(oh, ow, cout, out))
}

fn conv_depthwise(
    x: &Tensor,
    win: Window,
    c: usize,
    weights: &[f32],
    bias: &[f32],
) -> Result<Tensor, String> {
    if x.c != c {
        return Err(format!("depthwise Conv expects {c} channels, got {}", x.c));
    }
    let (oh, ow) = win.out_size(x.h, x.w)?;
    let mut out = vec![0.0f32; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            let acc = &mut out[(oy * ow + ox) * c..][..c];
            acc.copy_from_slice(bias);
            for ky in 0..win.k {
                let Some(iy) = (oy * win.stride + ky)
                    .checked_sub(win.pads[0])
                    .filter(|&v| v < x.h)
                else {
                    continue;
                };
                for kx in 0..win.k {
                    let Some(ix) = (ox * win.stride + kx)
                        .checked_sub(win.pads[1])
                        .filter(|&v| v < x.w)
                    else {
                        continue;
                    };
                    let src = &x.data[(iy * x.w + ix) * c..][..c];
                    let wt = &weights[(ky * win.k + kx) * c..][..c];
                    for ((a, s), w) in acc.iter_mut().zip(src).zip(wt) {
                        *a += s * w;
                    }
                }
            }
        }
    }
    Ok(Tensor::new(oh, ow, c, out))
}

fn max_pool2(x: &Tensor) -> Tensor {
    let (oh, ow, c) = (x.h / 2, x.w / 2, x.c);
    let mut out = vec![0.0f32; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            let o = &mut out[(oy * ow + ox) * c..][..c];
            let at = |dy: usize, dx: usize| &x.data[((2 * oy + dy) * x.w + 2 * ox + dx) * c..][..c];
            let (a, b, d, e) = (at(0, 0), at(0, 1), at(1, 0), at(1, 1));
            for i in 0..c {
                o[i] = a[i].max(b[i]).max(d[i]).max(e[i]);
            }
        }
    }
    Tensor::new(oh, ow, c, out)
}

/// Channel concatenation; zero-channel tensors ([`Op::Zeros`]) take the others' size.
fn concat_channels(parts: &[&Tensor]) -> Result<Tensor, String> {
    let sized = parts.iter().find(|t| t.h > 0).ok_or("Concat of zeros only")?;
    let (h, w) = (sized.h, sized.w);
    if parts.iter().any(|t| t.h > 0 && (t.h, t.w) != (h, w)) {
        return Err("Concat of different sizes".into());
    }
    let c: usize = parts.iter().map(|t| t.c).sum();
    let mut out = vec![0.0f32; h * w * c];
    for (p, px) in out.chunks_exact_mut(c).enumerate() {
        let mut at = 0;
        for t in parts {
            if t.h > 0 {
                px[at..at + t.c].copy_from_slice(&t.data[p * t.c..][..t.c]);
            }
            at += t.c;
        }
    }
    Ok(Tensor::new(h, w, c, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_conv(x: &Tensor, win: Window, cout: usize, w_onnx: &[f32], bias: &[f32]) -> Vec<f32> {
        let (oh, ow) = win.out_size(x.h, x.w).unwrap();
        let mut out = vec![0.0; oh * ow * cout];
        for oy in 0..oh {
            for ox in 0..ow {
                for co in 0..cout {
                    let mut s = bias[co];
                    for ci in 0..x.c {
                        for ky in 0..win.k {
                            for kx in 0..win.k {
                                let iy = (oy * win.stride + ky) as isize - win.pads[0] as isize;
                                let ix = (ox * win.stride + kx) as isize - win.pads[1] as isize;
                                if iy < 0 || ix < 0 || iy >= x.h as isize || ix >= x.w as isize {
                                    continue;
                                }
                                s += x.data[(iy as usize * x.w + ix as usize) * x.c + ci]
                                    * w_onnx[((co * x.c + ci) * win.k + ky) * win.k + kx];
                            }
                        }
                    }
                    out[(oy * ow + ox) * cout + co] = s;
                }
            }
        }
        out
    }

    fn node(
        group: i64,
        k: usize,
        stride: i64,
        pads: [i64; 4],
        w: Vec<f32>,
        dims: Vec<usize>,
        b: Vec<f32>,
    ) -> Op {
        let mut inits = HashMap::new();
        inits.insert("w".to_string(), Initializer { dims, values: w });
        inits.insert(
            "b".to_string(),
            Initializer {
                dims: vec![b.len()],
                values: b,
            },
        );
        let mut attrs = HashMap::new();
        attrs.insert("group".into(), crate::onnx::Attr::Int(group));
        attrs.insert("strides".into(), crate::onnx::Attr::Ints(vec![stride, stride]));
        attrs.insert("pads".into(), crate::onnx::Attr::Ints(pads.to_vec()));
        attrs.insert(
            "kernel_shape".into(),
            crate::onnx::Attr::Ints(vec![k as i64, k as i64]),
        );
        let n = Node {
            op_type: "Conv".into(),
            inputs: vec!["x".into(), "w".into(), "b".into()],
            outputs: vec!["y".into()],
            attrs,
        };
        conv(&n, &inits).unwrap()
    }

    fn pseudo(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn dense_and_depthwise_match_a_naive_convolution() {
        let x = Tensor::new(9, 7, 3, pseudo(9 * 7 * 3, 1));
        // Dense 5×5 stride 2 with asymmetric pads (BlazeFace's first layer).
        let w = pseudo(4 * 3 * 25, 2);
        let op = node(
            1,
            5,
            2,
            [1, 1, 2, 2],
            w.clone(),
            vec![4, 3, 5, 5],
            vec![0.5, -1.0, 0.0, 2.0],
        );
        let Op::Conv {
            win,
            cin,
            cout,
            weights,
            bias,
        } = &op
        else {
            panic!()
        };
        let got = conv_dense(&x, *win, *cin, *cout, weights, bias).unwrap();
        let want = naive_conv(&x, *win, 4, &w, bias);
        assert_eq!((got.h, got.w), (4, 3));
        for (g, w) in got.data.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "{g} vs {w}");
        }
        // Depthwise 3×3 stride 2, TF "same" padding.
        let w = pseudo(3 * 9, 3);
        let op = node(3, 3, 2, [0, 0, 1, 1], w.clone(), vec![3, 1, 3, 3], vec![0.0; 3]);
        let Op::Depthwise {
            win,
            c,
            weights,
            bias,
        } = &op
        else {
            panic!()
        };
        let got = conv_depthwise(&x, *win, *c, weights, bias).unwrap();
        // The naive dense form of a depthwise filter: zero off the diagonal.
        let mut dense = vec![0.0; 3 * 3 * 9];
        for ch in 0..3 {
            dense[(ch * 3 + ch) * 9..][..9].copy_from_slice(&w[ch * 9..][..9]);
        }
        let want = naive_conv(&x, *win, 3, &dense, bias);
        for (g, w) in got.data.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "{g} vs {w}");
        }
    }

    #[test]
    fn pooling_and_channel_padding() {
        let x = Tensor::new(2, 2, 1, vec![1.0, 4.0, 3.0, 2.0]);
        assert_eq!(max_pool2(&x).data, [4.0]);
        let zeros = Tensor::new(0, 0, 2, Vec::new());
        let t = concat_channels(&[&x, &zeros]).unwrap();
        assert_eq!(t.c, 3);
        assert_eq!(&t.data[..6], &[1.0, 0.0, 0.0, 4.0, 0.0, 0.0]);
    }
}
