//! A small CPU inference engine for the convolutional network in an ONNX graph: dense and
//! depthwise convolutions, ReLU, addition, 2×2 max pooling and channel padding — every operator
//! BlazeFace uses, and nothing else (any other operator is a load error).
//!
//! Why not `tract`: it was measured (docs/faces.md) to add minutes to every cold build, and CI
//! builds pixfront three times; this engine has no dependency and compiles in seconds.
//!
//! How it is fast: [`crate::plan`] fuses each block of the graph (depthwise convolution, 1×1
//! convolution, residual addition, ReLU) into one layer and packs its weights once, at load;
//! [`crate::stream`] runs the layers row by row so the working set stays in the caches; and
//! [`crate::kernels`] computes each row with vector code (AVX2 + FMA when the CPU has them).
//! The graph is fully convolutional, so it runs on any input whose sides are multiples of 32
//! (the network's total stride), not only the size it was exported for: a whole proxy image is
//! examined in one pass, without tiles.

use crate::kernels::Isa;
use crate::onnx::Graph;
use crate::plan::Plan;

/// An activation: `h` rows of `w` pixels of `c` channels (HWC, channels innermost).
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

/// A loaded network.
#[derive(Debug)]
pub struct Net {
    plan: Plan,
}

impl Net {
    /// Compiles `graph`; an operator, attribute or pattern this engine does not implement is an
    /// error.
    pub fn from_graph(graph: &Graph) -> Result<Net, String> {
        Ok(Net {
            plan: Plan::new(graph)?,
        })
    }

    /// Runs the network on `input` (HWC); the graph outputs, in the graph's order, HWC.
    pub fn run(&self, input: Tensor) -> Result<Vec<Tensor>, String> {
        let row = input.w * input.c;
        if input.data.len() != input.h * row {
            return Err("the input's size does not match its data".into());
        }
        self.run_rows((input.h, input.w, input.c), |y, out| {
            out.copy_from_slice(&input.data[y * row..][..row])
        })
    }

    /// Runs the network on an `h` × `w` input of `c` channels whose rows `fill(y, row)` writes
    /// (`w` pixels of `c` values, HWC), when the first layers ask for them: the input is never
    /// whole in memory.
    pub fn run_rows(
        &self,
        (h, w, c): (usize, usize, usize),
        mut fill: impl FnMut(usize, &mut [f32]),
    ) -> Result<Vec<Tensor>, String> {
        crate::stream::run(&self.plan, Isa::detect(), (h, w, c), &mut fill)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::{Attr, Initializer, Node};
    use std::collections::HashMap;

    /// The instruction sets to check and how close each must come, relative to the outputs'
    /// magnitude: f32 kernels as close as float rounding allows, bfloat16 products (when the
    /// CPU has them) within 2 %: on BlazeFace they come within 0.3 % of the largest value
    /// of each output.
    fn isas() -> Vec<(Isa, f32)> {
        let best = Isa::detect();
        let f32_only = (best.f32_only(), 1e-4);
        #[cfg(target_arch = "x86_64")]
        if matches!(best, Isa::Avx512Bf16) {
            return vec![f32_only, (best, 2e-2)];
        }
        vec![f32_only]
    }

    fn run_with(net: &Net, isa: Isa, x: &Tensor) -> Vec<Tensor> {
        let row = x.w * x.c;
        let mut fill = |y: usize, out: &mut [f32]| out.copy_from_slice(&x.data[y * row..][..row]);
        crate::stream::run(&net.plan, isa, (x.h, x.w, x.c), &mut fill).unwrap()
    }

    fn pseudo(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// A reference convolution, straight from the ONNX definition (weights `[co][ci/g][k][k]`).
    #[allow(clippy::too_many_arguments)]
    fn naive_conv(
        x: &Tensor,
        w: &[f32],
        b: &[f32],
        cout: usize,
        k: usize,
        s: usize,
        pads: [usize; 4],
        group: usize,
    ) -> Tensor {
        let oh = (x.h + pads[0] + pads[2] - k) / s + 1;
        let ow = (x.w + pads[1] + pads[3] - k) / s + 1;
        let cig = x.c / group;
        let mut out = vec![0.0; oh * ow * cout];
        for oy in 0..oh {
            for ox in 0..ow {
                for co in 0..cout {
                    let g = co / (cout / group);
                    let mut acc = b[co];
                    for ci in 0..cig {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (oy * s + ky) as isize - pads[0] as isize;
                                let ix = (ox * s + kx) as isize - pads[1] as isize;
                                if iy < 0 || ix < 0 || iy >= x.h as isize || ix >= x.w as isize {
                                    continue;
                                }
                                let v = x.data[(iy as usize * x.w + ix as usize) * x.c + g * cig + ci];
                                acc += v * w[((co * cig + ci) * k + ky) * k + kx];
                            }
                        }
                    }
                    out[(oy * ow + ox) * cout + co] = acc;
                }
            }
        }
        Tensor::new(oh, ow, cout, out)
    }

    /// A graph under construction, and the same network computed naively alongside.
    struct G {
        nodes: Vec<Node>,
        inits: HashMap<String, Initializer>,
        n: usize,
    }

    impl G {
        fn name(&mut self) -> String {
            self.n += 1;
            format!("v{}", self.n)
        }

        fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
            let out = self.name();
            self.nodes.push(Node {
                op_type: op.into(),
                inputs: inputs.iter().map(|s| s.to_string()).collect(),
                outputs: vec![out.clone()],
                attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            });
            out
        }

        /// Adds a Conv node on `x` and returns (its name, its naive result).
        #[allow(clippy::too_many_arguments)]
        fn conv(
            &mut self,
            x: (&str, &Tensor),
            cout: usize,
            k: usize,
            s: usize,
            pads: [usize; 4],
            group: usize,
        ) -> (String, Tensor) {
            let cig = x.1.c / group;
            let (wn, bn) = (self.name(), self.name());
            let w = pseudo(cout * cig * k * k, self.n as u32);
            let b = pseudo(cout, self.n as u32 * 7);
            self.inits.insert(
                wn.clone(),
                Initializer {
                    dims: vec![cout, cig, k, k],
                    values: w.clone(),
                },
            );
            self.inits.insert(
                bn.clone(),
                Initializer {
                    dims: vec![cout],
                    values: b.clone(),
                },
            );
            let p = pads.map(|v| v as i64).to_vec();
            let name = self.node(
                "Conv",
                &[x.0, &wn, &bn],
                vec![
                    ("group", Attr::Int(group as i64)),
                    ("strides", Attr::Ints(vec![s as i64; 2])),
                    ("pads", Attr::Ints(p)),
                ],
            );
            (name, naive_conv(x.1, &w, &b, cout, k, s, pads, group))
        }
    }

    fn relu(mut t: Tensor) -> Tensor {
        t.data.iter_mut().for_each(|v| *v = v.max(0.0));
        t
    }

    fn add(mut a: Tensor, b: &Tensor) -> Tensor {
        a.data.iter_mut().zip(&b.data).for_each(|(x, y)| *x += y);
        a
    }

    /// 2×2 max pooling, then zero channels up to `c`.
    fn pool_pad(x: &Tensor, c: usize) -> Tensor {
        let (h, w) = (x.h / 2, x.w / 2);
        let mut out = vec![0.0; h * w * c];
        for y in 0..h {
            for xx in 0..w {
                for ch in 0..x.c {
                    let at = |dy: usize, dx: usize| x.data[((2 * y + dy) * x.w + 2 * xx + dx) * x.c + ch];
                    out[(y * w + xx) * c + ch] = at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
                }
            }
        }
        Tensor::new(h, w, c, out)
    }

    /// BlazeFace's structure in small: a 5×5/2 convolution, a residual block, a block that
    /// halves the size and doubles the channels (pooled residual padded with zeros), a block
    /// without residual, and two 1×1 heads (channel counts that are not whole vectors).
    #[test]
    fn fused_layers_match_the_graph_computed_naively() {
        let mut g = G {
            nodes: Vec::new(),
            inits: HashMap::new(),
            n: 0,
        };
        let x = Tensor::new(20, 28, 3, pseudo(20 * 28 * 3, 1));
        let (c1, t) = g.conv(("in", &x), 16, 5, 2, [1, 1, 2, 2], 1);
        let (r1, t1) = (g.node("Relu", &[&c1], vec![]), relu(t));
        let (d, td) = g.conv((&r1, &t1), 16, 3, 1, [1, 1, 1, 1], 16);
        let (p, tp) = g.conv((&d, &td), 16, 1, 1, [0; 4], 1);
        let a = g.node("Add", &[&p, &r1], vec![]);
        let (r2, t2) = (g.node("Relu", &[&a], vec![]), relu(add(tp, &t1)));
        let mp = g.node(
            "MaxPool",
            &[&r2],
            vec![
                ("kernel_shape", Attr::Ints(vec![2, 2])),
                ("strides", Attr::Ints(vec![2, 2])),
            ],
        );
        g.inits.insert(
            "shape".into(),
            Initializer {
                dims: vec![4],
                values: vec![1.0, 16.0, 5.0, 7.0],
            },
        );
        let z = g.node("ConstantOfShape", &["shape"], vec![]);
        let cat = g.node("Concat", &[&mp, &z], vec![("axis", Attr::Int(1))]);
        let (d, td) = g.conv((&r2, &t2), 16, 3, 2, [0, 0, 1, 1], 16);
        let (p, tp) = g.conv((&d, &td), 32, 1, 1, [0; 4], 1);
        let a = g.node("Add", &[&cat, &p], vec![]);
        let (r3, t3) = (g.node("Relu", &[&a], vec![]), relu(add(tp, &pool_pad(&t2, 32))));
        let (d, td) = g.conv((&r3, &t3), 32, 3, 2, [0, 0, 1, 1], 32);
        let (p, tp) = g.conv((&d, &td), 24, 1, 1, [0; 4], 1);
        let (r4, t4) = (g.node("Relu", &[&p], vec![]), relu(tp));
        let (h1, th1) = g.conv((&r3, &t3), 6, 1, 1, [0; 4], 1);
        let (h2, th2) = g.conv((&r4, &t4), 2, 1, 1, [0; 4], 1);
        let graph = Graph {
            nodes: g.nodes,
            initializers: g.inits,
            inputs: vec!["in".into()],
            outputs: vec![h1, h2],
        };
        let net = Net::from_graph(&graph).unwrap();
        assert_eq!(
            net.plan.layers.len(),
            7,
            "input, conv, 4 blocks, 2 heads: {:?}",
            net.plan
        );
        for (isa, tolerance) in isas() {
            let got = run_with(&net, isa, &x);
            for (g, want) in got.iter().zip([&th1, &th2]) {
                assert_eq!((g.h, g.w, g.c), (want.h, want.w, want.c));
                let scale = 1.0 + want.data.iter().fold(0f32, |m, v| m.max(v.abs()));
                for (a, b) in g.data.iter().zip(&want.data) {
                    assert!((a - b).abs() < tolerance * scale, "{isa:?}: {a} vs {b}");
                }
            }
        }
    }

    /// BlazeFace itself against onnxruntime 1.23 (CPU) on the same input: a pseudo-random
    /// 256 × 256 picture, values in −1…1. Per output: the largest magnitude, the sum of
    /// magnitudes and four values.
    #[test]
    fn blazeface_matches_onnxruntime() {
        let model = include_bytes!("../../../models/face_detection_back_256x256_barracuda.onnx");
        let net = Net::from_graph(&crate::onnx::parse(model).unwrap()).unwrap();
        let input: Vec<f32> = (0..256 * 256 * 3)
            .map(|i| ((i as u32).wrapping_mul(2654435761) >> 24) as f32 / 127.5 - 1.0)
            .collect();
        let input = Tensor::new(256, 256, 3, input);
        type Want = (f32, f64, [(usize, f32); 4]);
        let want: [Want; 4] = [
            (
                696.613,
                85344.0,
                [(0, -2.90849), (170, -356.624), (256, -2.83311), (511, -3.00071)],
            ),
            (
                72.7036,
                6135.31,
                [(0, -4.93473), (128, -23.3814), (192, -3.6229), (383, -16.4607)],
            ),
            (
                93.2789,
                58811.2,
                [
                    (0, -0.0521095),
                    (2730, -7.83744),
                    (4096, -2.43096),
                    (8191, -4.31578),
                ],
            ),
            (
                116.607,
                146582.0,
                [(0, 10.104), (2048, -10.4289), (3072, -5.14349), (6143, -9.23188)],
            ),
        ];
        for (isa, tolerance) in isas() {
            let out = run_with(&net, isa, &input);
            for (t, (max, abs_sum, values)) in out.iter().zip(want) {
                let got: f64 = t.data.iter().map(|v| v.abs() as f64).sum();
                assert!(
                    (got - abs_sum).abs() < tolerance as f64 * abs_sum,
                    "{isa:?}: {got} vs {abs_sum}"
                );
                for (i, v) in values {
                    let (g, limit) = (t.data[i], tolerance / 2.0 * max);
                    assert!((g - v).abs() < limit, "{isa:?} [{i}] {g} vs {v}");
                }
            }
        }
    }

    #[test]
    fn unsupported_graphs_are_load_errors() {
        let node = |op: &str| Node {
            op_type: op.into(),
            inputs: vec!["in".into()],
            outputs: vec!["out".into()],
            attrs: HashMap::new(),
        };
        let graph = |n: Node| Graph {
            nodes: vec![n],
            initializers: HashMap::new(),
            inputs: vec!["in".into()],
            outputs: vec!["out".into()],
        };
        assert!(Net::from_graph(&graph(node("Sigmoid")))
            .unwrap_err()
            .contains("Sigmoid"));
        // A ReLU of the input: nothing to fuse it into.
        assert!(Net::from_graph(&graph(node("Relu"))).is_err());
    }
}
