//! Size limits: on the sizes read from the file header before any pixel is decoded (and on an
//! SVG's size once parsed), and on the output after the edits.

use super::settings::PipelineSettings;
use crate::error::Error;

/// Refuses originals over `MAX_INPUT_PIXELS`.
pub fn check_input(width: u32, height: u32, config: &PipelineSettings) -> Result<(), Error> {
    let pixels = width as u64 * height as u64;
    if pixels > config.max_input_pixels {
        return Err(Error::bad_request(
            "ImageTooLarge",
            format!(
                "The image is {width}x{height} ({pixels} pixels); the limit is {} pixels.",
                config.max_input_pixels
            ),
        ));
    }
    Ok(())
}

/// Refuses animations whose frames × width × height exceed `MAX_ANIMATION_PIXELS`.
pub fn check_animation(width: u32, height: u32, frames: u32, config: &PipelineSettings) -> Result<(), Error> {
    let total = (width as u64 * height as u64).saturating_mul(frames as u64);
    if total > config.max_animation_pixels {
        return Err(Error::bad_request(
            "AnimationTooLarge",
            format!(
                "The animation has {frames} frames of {width}x{height} ({total} pixels); the limit is {} pixels.",
                config.max_animation_pixels
            ),
        ));
    }
    Ok(())
}

/// Refuses outputs wider or taller than `MAX_OUTPUT_DIMENSION`.
pub fn check_output(width: u32, height: u32, config: &PipelineSettings) -> Result<(), Error> {
    let max = config.max_output_dimension;
    if width > max || height > max {
        return Err(Error::bad_request(
            "OutputTooLarge",
            format!("The output would be {width}x{height}; the largest side allowed is {max} pixels."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_numbers() {
        let config = PipelineSettings {
            max_input_pixels: 100,
            ..PipelineSettings::default()
        };
        assert!(check_input(10, 10, &config).is_ok());
        let err = check_input(11, 10, &config).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (400, "ImageTooLarge"));
        let err = check_output(16_385, 1, &PipelineSettings::default()).unwrap_err();
        assert_eq!(err.code, "OutputTooLarge");
    }
}
