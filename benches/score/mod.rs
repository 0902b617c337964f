//! SSIMULACRA2 (the `ssimulacra2` crate) of two 8-bit sRGB images, for the benchmarks that
//! report quality next to speed or bytes.

pub fn ssimulacra2(reference: &image::RgbImage, distorted: &image::RgbImage) -> f64 {
    use ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic};
    let load = |img: &image::RgbImage| {
        let px: Vec<[f32; 3]> = img.pixels().map(|p| p.0.map(|c| c as f32 / 255.0)).collect();
        Rgb::new(
            px,
            img.width() as usize,
            img.height() as usize,
            TransferCharacteristic::SRGB,
            ColorPrimaries::BT709,
        )
        .expect("rgb")
    };
    ssimulacra2::compute_frame_ssimulacra2(load(reference), load(distorted)).expect("ssimulacra2")
}
