//! Just enough of the ONNX file format to read the BlazeFace graph: nodes (op type, inputs,
//! outputs, attributes) and float/int64 initializers.
//!
//! ONNX files are Protocol Buffers. A general protobuf/ONNX crate (or `tract-onnx`) would cost
//! minutes of build time on every CI run for a file whose few fields are read here in ~150
//! lines; unknown fields are skipped, as protobuf allows. Field numbers are those of `onnx.proto`
//! (IR version 7).

use std::collections::HashMap;

/// One attribute value of a node (only the kinds the BlazeFace graph uses).
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub op_type: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: HashMap<String, Attr>,
}

impl Node {
    pub fn ints(&self, name: &str) -> Option<&[i64]> {
        match self.attrs.get(name) {
            Some(Attr::Ints(v)) => Some(v),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.attrs.get(name) {
            Some(Attr::Int(v)) => Some(*v),
            _ => None,
        }
    }
}

/// An initializer: its dims and its values, widened to f32 (int64 shapes included).
#[derive(Debug, Clone, PartialEq)]
pub struct Initializer {
    pub dims: Vec<usize>,
    pub values: Vec<f32>,
}

#[derive(Debug, Clone)]
pub struct Graph {
    /// In file order, which ONNX requires to be a topological order.
    pub nodes: Vec<Node>,
    pub initializers: HashMap<String, Initializer>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

/// A protobuf field: its number and either an integer (varint, fixed32, fixed64) or bytes.
enum Value<'a> {
    Int(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first().ok_or("truncated varint")?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.buf.len() {
            return Err("truncated field".into());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next field, or `None` at the end of the message.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, String> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Int(self.varint()?),
            1 => Value::Int(u64::from_le_bytes(
                self.take(8)?.try_into().map_err(|_| "fixed64")?,
            )),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| "length")?;
                Value::Bytes(self.take(n)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().map_err(|_| "fixed32")?,
            )),
            t => return Err(format!("unsupported wire type {t}")),
        };
        Ok(Some((key >> 3, value)))
    }
}

fn fields<'a>(buf: &'a [u8], mut f: impl FnMut(u64, Value<'a>) -> Result<(), String>) -> Result<(), String> {
    let mut r = Reader { buf };
    while let Some((n, v)) = r.field()? {
        f(n, v)?;
    }
    Ok(())
}

fn string(v: Value) -> Result<String, String> {
    match v {
        Value::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| "string is not UTF-8".into()),
        _ => Err("expected a string".into()),
    }
}

/// A repeated int64, packed (one length-delimited field) or not (one varint per element).
fn push_ints(out: &mut Vec<i64>, v: Value) -> Result<(), String> {
    match v {
        Value::Int(i) => out.push(i as i64),
        Value::Bytes(b) => {
            let mut r = Reader { buf: b };
            while !r.buf.is_empty() {
                out.push(r.varint()? as i64);
            }
        }
        Value::Fixed32(_) => return Err("expected int64".into()),
    }
    Ok(())
}

/// A repeated float, packed or not.
fn push_floats(out: &mut Vec<f32>, v: Value) -> Result<(), String> {
    match v {
        Value::Fixed32(f) => out.push(f32::from_bits(f)),
        Value::Bytes(b) if b.len() % 4 == 0 => out.extend(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        _ => return Err("expected floats".into()),
    }
    Ok(())
}

// TensorProto.DataType
const FLOAT: u64 = 1;
const INT64: u64 = 7;

fn tensor(buf: &[u8]) -> Result<(String, Initializer), String> {
    let (mut name, mut dims, mut dtype) = (String::new(), Vec::new(), FLOAT);
    let (mut floats, mut ints, mut raw) = (Vec::new(), Vec::new(), None);
    fields(buf, |n, v| {
        match n {
            1 => push_ints(&mut dims, v)?,
            2 => {
                if let Value::Int(t) = v {
                    dtype = t
                }
            }
            4 => push_floats(&mut floats, v)?,
            7 => push_ints(&mut ints, v)?,
            8 => name = string(v)?,
            9 => {
                if let Value::Bytes(b) = v {
                    raw = Some(b)
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    let values: Vec<f32> = match (dtype, raw) {
        (FLOAT, Some(b)) if b.len() % 4 == 0 => b
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        (INT64, Some(b)) if b.len() % 8 == 0 => b
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()) as f32)
            .collect(),
        (FLOAT, None) => floats,
        (INT64, None) => ints.iter().map(|&i| i as f32).collect(),
        _ => return Err(format!("tensor {name}: unsupported data type {dtype}")),
    };
    let dims: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
    if dims.iter().product::<usize>() != values.len() {
        return Err(format!(
            "tensor {name}: {} values for dims {dims:?}",
            values.len()
        ));
    }
    Ok((name, Initializer { dims, values }))
}

fn attribute(buf: &[u8]) -> Result<(String, Option<Attr>), String> {
    let (mut name, mut int, mut float, mut ints) = (String::new(), None, None, Vec::new());
    fields(buf, |n, v| {
        match (n, v) {
            (1, v) => name = string(v)?,
            (2, Value::Fixed32(f)) => float = Some(f32::from_bits(f)),
            (3, Value::Int(i)) => int = Some(i as i64),
            (8, v) => push_ints(&mut ints, v)?,
            _ => {}
        }
        Ok(())
    })?;
    let attr = match (int, float) {
        (Some(i), _) => Some(Attr::Int(i)),
        (_, Some(f)) => Some(Attr::Float(f)),
        _ if !ints.is_empty() => Some(Attr::Ints(ints)),
        _ => None,
    };
    Ok((name, attr))
}

fn node(buf: &[u8]) -> Result<Node, String> {
    let mut node = Node {
        op_type: String::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        attrs: HashMap::new(),
    };
    fields(buf, |n, v| {
        match n {
            1 => node.inputs.push(string(v)?),
            2 => node.outputs.push(string(v)?),
            4 => node.op_type = string(v)?,
            5 => {
                if let Value::Bytes(b) = v {
                    if let (name, Some(a)) = attribute(b)? {
                        node.attrs.insert(name, a);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(node)
}

/// The name of a ValueInfoProto (graph input or output).
fn value_name(v: Value) -> Result<String, String> {
    let mut name = String::new();
    if let Value::Bytes(b) = v {
        fields(b, |n, v| {
            if n == 1 {
                name = string(v)?;
            }
            Ok(())
        })?;
    }
    Ok(name)
}

/// Reads the graph of an ONNX model file.
pub fn parse(model: &[u8]) -> Result<Graph, String> {
    let mut graph = None;
    fields(model, |n, v| {
        if let (7, Value::Bytes(b)) = (n, v) {
            graph = Some(b);
        }
        Ok(())
    })?;
    let graph_bytes = graph.ok_or("no graph in the model")?;
    let mut g = Graph {
        nodes: Vec::new(),
        initializers: HashMap::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    fields(graph_bytes, |n, v| {
        match (n, v) {
            (1, Value::Bytes(b)) => g.nodes.push(node(b)?),
            (5, Value::Bytes(b)) => {
                let (name, t) = tensor(b)?;
                g.initializers.insert(name, t);
            }
            (11, v) => g.inputs.push(value_name(v)?),
            (12, v) => g.outputs.push(value_name(v)?),
            _ => {}
        }
        Ok(())
    })?;
    // Older exporters list initializers among the inputs too; the real input is the other one.
    g.inputs.retain(|i| !g.initializers.contains_key(i));
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_packed_fields() {
        let mut r = Reader {
            buf: &[0x96, 0x01, 0x08, 0x2a],
        };
        assert_eq!(r.varint().unwrap(), 150);
        match r.field().unwrap() {
            Some((1, Value::Int(42))) => {}
            _ => panic!("field 1 = 42 expected"),
        }
        assert!(r.field().unwrap().is_none());
        let mut ints = Vec::new();
        push_ints(&mut ints, Value::Bytes(&[1, 0x96, 0x01])).unwrap();
        assert_eq!(ints, [1, 150]);
        assert!(
            parse(&[0x3a, 0x05, 0x00]).is_err(),
            "truncated input is an error, not a panic"
        );
    }
}
