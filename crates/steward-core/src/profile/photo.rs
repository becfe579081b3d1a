//! Profile photos from untrusted uploads: the format and the pixel dimensions
//! are checked from the header before anything is decoded (a small file may
//! claim a huge image), decoding runs under memory limits, and the picture is
//! re-encoded from its pixels alone, so metadata such as GPS positions never
//! survives. Stored as square JPEG avatars in two sizes.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{ImageFormat, ImageReader, Limits};

/// Largest upload accepted.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Largest width or height accepted.
pub const MAX_SIDE: u32 = 4096;
/// The avatar sizes kept, in pixels (square).
pub const SIZES: [u32; 2] = [256, 64];
/// JPEG quality of the stored avatars.
const QUALITY: u8 = 85;

/// Why an upload was refused; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// Over [`MAX_BYTES`].
    #[error("The photo is larger than 5 MB.")]
    TooLarge,
    /// Not a picture at all.
    #[error("This file is not an image. Use a PNG, JPEG or WebP picture.")]
    NotAnImage,
    /// A picture in another format.
    #[error("This image format is not accepted. Use a PNG, JPEG or WebP picture.")]
    Unsupported,
    /// Wider or taller than [`MAX_SIDE`].
    #[error("The image is {0}×{1} pixels; at most 4096×4096 is accepted.")]
    TooManyPixels(u32, u32),
    /// The file could not be decoded (damaged, or larger inside than it claims).
    #[error("The image could not be read. It may be damaged; try another file.")]
    Unreadable,
}

/// The avatars made from an upload, largest first (see [`SIZES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatars(pub Vec<Vec<u8>>);

/// Checks, decodes and re-encodes an uploaded photo. CPU-bound: call it on the
/// blocking pool.
pub fn process(bytes: &[u8]) -> Result<Avatars, PhotoError> {
    if bytes.len() > MAX_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let format = image::guess_format(bytes).map_err(|_| PhotoError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP
    ) {
        return Err(PhotoError::Unsupported);
    }
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| PhotoError::Unreadable)?;
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(PhotoError::TooManyPixels(w, h));
    }
    if w == 0 || h == 0 {
        return Err(PhotoError::Unreadable);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // RGBA at the largest accepted size, with room for the decoder's own buffers.
    limits.max_alloc = Some(u64::from(MAX_SIDE) * u64::from(MAX_SIDE) * 4 * 2);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| PhotoError::Unreadable)?;
    let side = w.min(h);
    let square = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let mut out = Vec::with_capacity(SIZES.len());
    for size in SIZES {
        let rgb = square
            .resize_exact(size, size, FilterType::Lanczos3)
            .to_rgb8();
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
            .encode_image(&rgb)
            .map_err(|_| PhotoError::Unreadable)?;
        out.push(jpeg);
    }
    Ok(Avatars(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn encoded(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut bytes = Cursor::new(Vec::new());
        img.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn png_jpeg_and_webp_become_square_jpeg_avatars() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
            let Avatars(sizes) = process(&encoded(300, 200, format)).unwrap();
            assert_eq!(sizes.len(), 2);
            for (bytes, side) in sizes.iter().zip(SIZES) {
                let img = image::load_from_memory(bytes).unwrap();
                assert_eq!(image::guess_format(bytes).unwrap(), ImageFormat::Jpeg);
                assert_eq!((img.width(), img.height()), (side, side));
            }
        }
    }

    /// CRC-32 (IEEE), as PNG chunks use.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn hostile_files_are_refused_before_decoding() {
        assert_eq!(
            process(b"GIF89a\x01\x00\x01\x00"),
            Err(PhotoError::Unsupported)
        );
        assert_eq!(process(b"hello, not an image"), Err(PhotoError::NotAnImage));
        assert_eq!(
            process(&vec![0u8; MAX_BYTES + 1]),
            Err(PhotoError::TooLarge)
        );
        // A PNG whose header claims 50000×50000 (a decompression bomb) is refused from the header.
        // Its IHDR chunk (bytes 12..29) is rewritten with a correct CRC, so only the size lies.
        let mut bomb = encoded(8, 8, ImageFormat::Png);
        bomb[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            process(&bomb),
            Err(PhotoError::TooManyPixels(50_000, 50_000))
        );
        // Truncated: a header and nothing more.
        let png = encoded(64, 64, ImageFormat::Png);
        assert_eq!(process(&png[..40]), Err(PhotoError::Unreadable));
        assert_eq!(
            process(&encoded(4097, 1, ImageFormat::Png)),
            Err(PhotoError::TooManyPixels(4097, 1))
        );
    }

    #[test]
    fn metadata_does_not_survive() {
        // A JPEG carrying an EXIF segment with a marker string (as GPS data would).
        let jpeg = encoded(64, 64, ImageFormat::Jpeg);
        let mut with_exif = jpeg[..2].to_vec();
        let payload = b"Exif\0\0GPS-SECRET-51.5N";
        with_exif.extend_from_slice(&[0xFF, 0xE1]);
        with_exif.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        with_exif.extend_from_slice(payload);
        with_exif.extend_from_slice(&jpeg[2..]);
        let Avatars(sizes) = process(&with_exif).unwrap();
        for bytes in sizes {
            assert!(
                !bytes.windows(10).any(|w| w == b"GPS-SECRET"),
                "metadata dropped"
            );
        }
    }
}
