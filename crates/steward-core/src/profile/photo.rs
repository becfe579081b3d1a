//! Profile photos from untrusted uploads: the format, the pixel dimensions and
//! the bit depth are checked from the header before anything is decoded (a small
//! file may claim a huge image, and 16 bits per channel doubles what it unpacks
//! to), decoding runs under a memory budget that fits the largest accepted
//! image, and the picture is re-encoded from its pixels alone, so metadata such as
//! GPS positions never survives. Stored as square JPEG avatars in two sizes.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{
    DynamicImage, ImageBuffer, ImageDecoder, ImageFormat, ImageReader, Limits, Pixel, RgbImage,
};

/// Largest upload accepted.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Largest width or height accepted.
pub const MAX_SIDE: u32 = 4096;
/// Deepest colour channels accepted, in bits.
pub const MAX_BITS: u32 = 8;
/// The avatar sizes kept, in pixels (square).
pub const SIZES: [u32; 2] = [256, 64];
/// JPEG quality of the stored avatars.
const QUALITY: u8 = 85;
/// What one decode may allocate: the largest accepted image as 8-bit RGBA (64 MiB),
/// and half again for the decoder's own buffers.
const DECODE_BUDGET: u64 = (MAX_SIDE as u64) * (MAX_SIDE as u64) * 4 * 3 / 2;

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
    /// Deeper than [`MAX_BITS`] per channel (a 16-bit PNG).
    #[error(
        "The image has {0} bits per channel; at most 8 are accepted. Save it as an 8-bit PNG, or as a JPEG."
    )]
    TooDeep(u32),
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
    // The header alone: how large the image is and how deep its pixels are.
    let header = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(|_| PhotoError::Unreadable)?;
    let (w, h) = header.dimensions();
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(PhotoError::TooManyPixels(w, h));
    }
    if w == 0 || h == 0 {
        return Err(PhotoError::Unreadable);
    }
    let color = header.color_type();
    let bits = 8 * u32::from(color.bytes_per_pixel()) / u32::from(color.channel_count().max(1));
    if bits > MAX_BITS {
        return Err(PhotoError::TooDeep(bits));
    }
    drop(header);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(DECODE_BUDGET);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| PhotoError::Unreadable)?;
    let side = w.min(h);
    let (x, y) = ((w - side) / 2, (h - side) / 2);
    // Resized straight from the decoded pixels (a view of the centre square, not a
    // copy), so the decoded image is the only full-size buffer.
    let large = match &img {
        DynamicImage::ImageLuma8(b) => avatar(b, x, y, side),
        DynamicImage::ImageLumaA8(b) => avatar(b, x, y, side),
        DynamicImage::ImageRgb8(b) => avatar(b, x, y, side),
        DynamicImage::ImageRgba8(b) => avatar(b, x, y, side),
        // The header said 8 bits; a decoder that disagrees is not trusted either.
        _ => return Err(PhotoError::Unreadable),
    };
    drop(img);
    let small = imageops::resize(&large, SIZES[1], SIZES[1], FilterType::Lanczos3);
    let mut out = Vec::with_capacity(SIZES.len());
    for rgb in [&large, &small] {
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
            .encode_image(rgb)
            .map_err(|_| PhotoError::Unreadable)?;
        out.push(jpeg);
    }
    Ok(Avatars(out))
}

/// The `side`×`side` square at (`x`, `y`) of `img`, resized to the large avatar.
fn avatar<P>(img: &ImageBuffer<P, Vec<u8>>, x: u32, y: u32, side: u32) -> RgbImage
where
    P: Pixel<Subpixel = u8> + 'static,
    DynamicImage: From<ImageBuffer<P, Vec<u8>>>,
{
    let square = imageops::crop_imm(img, x, y, side, side);
    let resized = imageops::resize(&*square, SIZES[0], SIZES[0], FilterType::Lanczos3);
    DynamicImage::from(resized).to_rgb8()
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
    fn sixteen_bit_images_are_refused_from_the_header() {
        let (w, h) = (40, 30);
        let deep = [
            DynamicImage::ImageRgba16(ImageBuffer::from_pixel(w, h, image::Rgba([1u16, 2, 3, 4]))),
            DynamicImage::ImageRgb16(ImageBuffer::from_pixel(w, h, image::Rgb([1u16, 2, 3]))),
            DynamicImage::ImageLumaA16(ImageBuffer::from_pixel(w, h, image::LumaA([1u16, 2]))),
            DynamicImage::ImageLuma16(ImageBuffer::from_pixel(w, h, image::Luma([1u16]))),
        ];
        for img in deep {
            let mut png = Cursor::new(Vec::new());
            img.write_to(&mut png, ImageFormat::Png).unwrap();
            assert_eq!(process(png.get_ref()), Err(PhotoError::TooDeep(16)));
        }
    }

    #[test]
    fn grey_and_transparent_pictures_become_avatars_too() {
        let (w, h) = (90, 120);
        let shallow = [
            DynamicImage::ImageLuma8(ImageBuffer::from_pixel(w, h, image::Luma([90u8]))),
            DynamicImage::ImageLumaA8(ImageBuffer::from_pixel(w, h, image::LumaA([90u8, 10]))),
            DynamicImage::ImageRgba8(ImageBuffer::from_pixel(w, h, image::Rgba([9u8, 8, 7, 6]))),
        ];
        for img in shallow {
            let mut png = Cursor::new(Vec::new());
            img.write_to(&mut png, ImageFormat::Png).unwrap();
            let Avatars(sizes) = process(png.get_ref()).unwrap();
            for (bytes, side) in sizes.iter().zip(SIZES) {
                let avatar = image::load_from_memory(bytes).unwrap();
                assert_eq!((avatar.width(), avatar.height()), (side, side));
            }
        }
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
