//! From an ONNX graph to a list of fused layers, with weights packed once for the kernels.
//!
//! BlazeFace is a chain of blocks `relu(conv1x1(depthwise(x)) + residual)`, where the residual
//! is `x` itself or, in the blocks that halve the size, `x` max-pooled and padded with zero
//! channels (`MaxPool` → `Concat` with `ConstantOfShape`). Each such block becomes one layer,
//! computed in one pass over each output row ([`crate::kernels::block_row`]), and a ReLU after
//! a convolution is applied as it is stored. Anything else the engine does not compute is a
//! load error, as is a pattern it cannot fuse.

use crate::kernels::LANES;
use crate::onnx::{Graph, Initializer, Node};
use std::collections::HashMap;

/// Convolution geometry: square kernel `k`, the same stride both ways, pads top, left, bottom,
/// right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub k: usize,
    pub stride: usize,
    pub pads: [usize; 4],
}

impl Window {
    /// Output rows × columns for an `h` × `w` input.
    pub fn out_size(&self, h: usize, w: usize) -> Result<(usize, usize), String> {
        let ph = h + self.pads[0] + self.pads[2];
        let pw = w + self.pads[1] + self.pads[3];
        if ph < self.k || pw < self.k {
            return Err(format!("input {h}×{w} is smaller than the kernel"));
        }
        Ok(((ph - self.k) / self.stride + 1, (pw - self.k) / self.stride + 1))
    }
}

/// A dense convolution: weights `[ky][kx][ci][co]`, `co` padded to whole vectors.
#[derive(Debug)]
pub struct Dense {
    pub win: Window,
    pub w: Vec<f32>,
    pub bias: Vec<f32>,
    /// The weights as 16-bit integers, for CPUs with AVX-512 VNNI.
    #[cfg(target_arch = "x86_64")]
    pub q16: crate::int16::Weights,
}

/// A depthwise convolution: weights `[ky][kx][c]`, `c` padded to whole vectors.
#[derive(Debug, Clone)]
pub struct Depthwise {
    pub win: Window,
    pub w: Vec<f32>,
    pub bias: Vec<f32>,
}

/// A 1×1 convolution: weights `[ci][co]`, both padded as their tensors are stored.
#[derive(Debug)]
pub struct Pointwise {
    pub w: Vec<f32>,
    pub bias: Vec<f32>,
    /// The weights as bfloat16 pairs ([`crate::bf16::pairs`]) when there is an even number
    /// of input channels, for CPUs with AVX-512 BF16.
    #[cfg(target_arch = "x86_64")]
    pub pairs: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Residual {
    None,
    /// The block's input.
    Same,
    /// The block's input, 2×2 max-pooled, zero channels added.
    Pooled,
}

#[derive(Debug)]
pub enum Op {
    /// The network input.
    Input,
    Dense(Dense),
    Block {
        dw: Option<Depthwise>,
        pw: Pointwise,
        residual: Residual,
    },
}

#[derive(Debug)]
pub struct Layer {
    pub op: Op,
    /// The layer whose rows this one reads (`0`, the input, for the input itself).
    pub src: usize,
    /// Output channels (as the graph has them; stored padded, see [`Layer::stored`]).
    pub c: usize,
    pub relu: bool,
}

impl Layer {
    /// Channels per stored pixel: whole vectors, except for the network input, which is
    /// stored as given (its few channels only feed a dense convolution, which reads any count).
    pub fn stored(&self) -> usize {
        match self.op {
            Op::Input => self.c,
            _ => self.c.div_ceil(LANES) * LANES,
        }
    }
}

/// Layers in a computable order (each reads an earlier one); layer 0 is the input.
#[derive(Debug)]
pub struct Plan {
    pub layers: Vec<Layer>,
    pub outputs: Vec<usize>,
}

/// A graph value while the nodes are read: a layer's output, or a piece of a block that
/// becomes part of the layer that consumes it.
#[derive(Debug, Clone)]
enum Val {
    Layer(usize),
    /// A depthwise convolution of a layer, fused into the 1×1 convolution that reads it.
    Depthwise(usize, Depthwise),
    /// 2×2 max pooling of a layer, with this many channels (zeros past the layer's own).
    Pooled(usize, usize),
    /// `ConstantOfShape` zeros with this many channels.
    Zeros(usize),
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

/// `v` (logically `[rows][n]`) with each row zero-padded to `n_to` values.
fn pad_rows(v: &[f32], n: usize, n_to: usize) -> Vec<f32> {
    let mut out = vec![0.0; v.len() / n * n_to];
    for (o, i) in out.chunks_exact_mut(n_to).zip(v.chunks_exact(n)) {
        o[..n].copy_from_slice(i);
    }
    out
}

fn padded(c: usize) -> usize {
    c.div_ceil(LANES) * LANES
}

struct Builder<'g> {
    inits: &'g HashMap<String, Initializer>,
    vals: HashMap<&'g str, Val>,
    /// How many nodes (and graph outputs) read each value: a fused value must have one reader.
    readers: HashMap<&'g str, usize>,
    layers: Vec<Layer>,
}

impl<'g> Builder<'g> {
    fn val(&self, name: &str) -> Result<Val, String> {
        self.vals
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{name} is used before it is made"))
    }

    fn layer_of(&self, name: &str) -> Result<usize, String> {
        match self.val(name)? {
            Val::Layer(l) => Ok(l),
            _ => Err(format!(
                "{name} feeds an operator this engine cannot fuse it into"
            )),
        }
    }

    /// The layer `name` is the output of, when nothing else reads it (so it may be changed).
    fn sole_layer(&self, name: &str) -> Result<usize, String> {
        let l = self.layer_of(name)?;
        if self.readers.get(name) != Some(&1) {
            return Err(format!("{name} is read more than once: cannot fuse"));
        }
        Ok(l)
    }

    fn conv(&mut self, node: &Node) -> Result<Val, String> {
        let w = node
            .inputs
            .get(1)
            .and_then(|n| self.inits.get(n))
            .ok_or("Conv without constant weights")?;
        let [cout, cin_g, k, kw] = w.dims[..] else {
            return Err("Conv weights are not 4-D".into());
        };
        if k != kw {
            return Err("non-square kernel".into());
        }
        let bias = match node.inputs.get(2).filter(|n| !n.is_empty()) {
            Some(n) => self
                .inits
                .get(n)
                .ok_or("Conv bias is not constant")?
                .values
                .clone(),
            None => vec![0.0; cout],
        };
        if bias.len() != cout {
            return Err("Conv bias size".into());
        }
        if k > crate::stream::MAX_K {
            return Err(format!("{k}×{k} kernels are not supported"));
        }
        let win = window(node, k)?;
        let group = node.int("group").unwrap_or(1) as usize;
        let input = self.val(node.inputs.first().ok_or("Conv without input")?)?;
        let bias = pad_rows(&bias, cout, padded(cout));
        // ONNX weights are [co][ci][ky][kx].
        let at = |co: usize, ci: usize, ky: usize, kx: usize| w.values[((co * cin_g + ci) * k + ky) * k + kx];
        if group == cout && cin_g == 1 && group > 1 {
            let Val::Layer(src) = input else {
                return Err("depthwise convolution of a fused value".into());
            };
            if !matches!(k, 3 | 5) || self.layers[src].c != cout || matches!(self.layers[src].op, Op::Input) {
                return Err(format!("unsupported depthwise convolution ({k}×{k})"));
            }
            let cs = padded(cout);
            let mut wp = vec![0.0; k * k * cs];
            for c in 0..cout {
                for i in 0..k * k {
                    wp[i * cs + c] = at(c, 0, i / k, i % k);
                }
            }
            return Ok(Val::Depthwise(src, Depthwise { win, w: wp, bias }));
        }
        if group != 1 {
            return Err(format!("grouped convolution (group {group}) is not supported"));
        }
        let cos = padded(cout);
        let pointwise = k == 1 && win.stride == 1 && win.pads == [0; 4];
        let (src, dw) = match input {
            Val::Layer(src) => (src, None),
            Val::Depthwise(src, dw) if pointwise => (src, Some(dw)),
            _ => return Err("a convolution of a fused value".into()),
        };
        let src_layer = &mut self.layers[src];
        // The input's channels are known from the first convolution that reads it.
        if matches!(src_layer.op, Op::Input) && src_layer.c == 0 {
            src_layer.c = cin_g;
        }
        if src_layer.c != cin_g {
            return Err(format!("Conv expects {cin_g} channels, gets {}", src_layer.c));
        }
        let op = if pointwise {
            let cis = src_layer.stored();
            let mut wp = vec![0.0; cis * cos];
            for co in 0..cout {
                for ci in 0..cin_g {
                    wp[ci * cos + co] = at(co, ci, 0, 0);
                }
            }
            Op::Block {
                dw,
                pw: Pointwise {
                    #[cfg(target_arch = "x86_64")]
                    pairs: match cis % 2 {
                        0 => crate::bf16::pairs(&wp, cis, cos),
                        _ => Vec::new(),
                    },
                    w: wp,
                    bias,
                },
                residual: Residual::None,
            }
        } else {
            if !matches!(src_layer.op, Op::Input) && src_layer.stored() != cin_g {
                return Err("a dense convolution of padded channels".into());
            }
            let mut wp = vec![0.0; k * k * cin_g * cos];
            for co in 0..cout {
                for ci in 0..cin_g {
                    for ky in 0..k {
                        for kx in 0..k {
                            wp[((ky * k + kx) * cin_g + ci) * cos + co] = at(co, ci, ky, kx);
                        }
                    }
                }
            }
            Op::Dense(Dense {
                win,
                #[cfg(target_arch = "x86_64")]
                q16: crate::int16::Weights::new(&wp, k, cin_g, cos),
                w: wp,
                bias,
            })
        };
        self.layers.push(Layer {
            op,
            src,
            c: cout,
            relu: false,
        });
        Ok(Val::Layer(self.layers.len() - 1))
    }

    /// `a + b`, one of them the block just made (the other its residual).
    fn add(&mut self, a: &str, b: &str) -> Result<Val, String> {
        let (block, other) = match self.sole_layer(a) {
            Ok(l) if matches!(self.layers[l].op, Op::Block { .. }) => (l, self.val(b)?),
            _ => (self.sole_layer(b)?, self.val(a)?),
        };
        let Layer { op, src, c, relu } = &self.layers[block];
        let Op::Block { dw, residual, .. } = op else {
            return Err("Add after a layer that is not a block".into());
        };
        if *relu || *residual != Residual::None {
            return Err("Add after ReLU or a second Add".into());
        }
        let stride = dw.as_ref().map_or(1, |d| d.win.stride);
        let fused = match other {
            Val::Layer(r) if r == *src && stride == 1 && self.layers[r].c == *c => Residual::Same,
            Val::Pooled(r, pc) if r == *src && stride == 2 && pc == *c => Residual::Pooled,
            _ => return Err("Add of values this engine cannot fuse".into()),
        };
        if let Op::Block { residual, .. } = &mut self.layers[block].op {
            *residual = fused;
        }
        Ok(Val::Layer(block))
    }

    fn node(&mut self, node: &'g Node) -> Result<Val, String> {
        let input = |i: usize| {
            node.inputs
                .get(i)
                .map(String::as_str)
                .ok_or_else(|| format!("{} without input {i}", node.op_type))
        };
        Ok(match node.op_type.as_str() {
            "Conv" => self.conv(node)?,
            "Relu" => {
                let l = self.sole_layer(input(0)?)?;
                if self.layers[l].relu || matches!(self.layers[l].op, Op::Input) {
                    return Err("a ReLU not after a convolution".into());
                }
                self.layers[l].relu = true;
                Val::Layer(l)
            }
            "Add" => self.add(input(0)?, input(1)?)?,
            "MaxPool" => {
                let ok = node.ints("kernel_shape") == Some(&[2, 2])
                    && node.ints("strides") == Some(&[2, 2])
                    && node.ints("pads").is_none_or(|p| p.iter().all(|&v| v == 0));
                if !ok {
                    return Err("only 2×2/2 max pooling is supported".into());
                }
                let l = self.layer_of(input(0)?)?;
                Val::Pooled(l, self.layers[l].c)
            }
            "ConstantOfShape" => {
                // Its `value` attribute is absent in these graphs, which means zeros.
                if node.attrs.contains_key("value") {
                    return Err("ConstantOfShape with a value".into());
                }
                let shape = self.inits.get(input(0)?).ok_or("dynamic shape")?;
                match shape.values[..] {
                    [_, c, _, _] if c >= 1.0 => Val::Zeros(c as usize),
                    _ => return Err("ConstantOfShape is not NCHW".into()),
                }
            }
            "Concat" if node.int("axis") == Some(1) => match (self.val(input(0)?)?, self.val(input(1)?)?) {
                (Val::Pooled(l, c), Val::Zeros(z)) if node.inputs.len() == 2 => Val::Pooled(l, c + z),
                _ => return Err("only a pooled value padded with zeros can be concatenated".into()),
            },
            // The engine's layout is channels-innermost throughout, so the graph's transposes
            // (NHWC input → NCHW, NCHW heads → NHWC) and its final reshapes change nothing.
            "Transpose" => match node.ints("perm") {
                Some([0, 3, 1, 2]) | Some([0, 2, 3, 1]) => self.val(input(0)?)?,
                _ => return Err("unsupported Transpose".into()),
            },
            "Reshape" => self.val(input(0)?)?,
            other => return Err(format!("unsupported operator {other}")),
        })
    }
}

impl Plan {
    /// Compiles `graph`; an operator, attribute or pattern this engine does not implement is an
    /// error.
    pub fn new(graph: &Graph) -> Result<Plan, String> {
        let mut readers: HashMap<&str, usize> = HashMap::new();
        for n in graph.nodes.iter().flat_map(|n| &n.inputs).chain(&graph.outputs) {
            *readers.entry(n.as_str()).or_default() += 1;
        }
        let input_name = graph.inputs.first().ok_or("the graph has no input")?;
        let mut b = Builder {
            inits: &graph.initializers,
            vals: HashMap::from([(input_name.as_str(), Val::Layer(0))]),
            readers,
            // Channels unknown (0) until a convolution reads the input.
            layers: vec![Layer {
                op: Op::Input,
                src: 0,
                c: 0,
                relu: false,
            }],
        };
        for node in &graph.nodes {
            let v = b.node(node)?;
            let out = node.outputs.first().ok_or("a node without output")?;
            b.vals.insert(out, v);
        }
        let outputs = graph
            .outputs
            .iter()
            .map(|n| b.layer_of(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Plan {
            layers: b.layers,
            outputs,
        })
    }
}
