//! The face detection network behind pixfront's `local` detector: [`onnx`] reads the model
//! file, [`net`] runs it on the CPU, [`blazeface`] turns its outputs into face boxes.

#[cfg(target_arch = "x86_64")]
mod bf16;
pub mod blazeface;
#[cfg(target_arch = "x86_64")]
mod int16;
mod kernels;
pub mod net;
pub mod onnx;
mod plan;
mod simd;
mod stream;
