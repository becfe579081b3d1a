//! Photo uploads cannot be turned against the server's memory: images deeper
//! than 8 bits per channel are refused before decoding, and each account may
//! upload only so many photos an hour, through the API and the page alike.

use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, Rgb, Rgba};
use steward_testkit::{ApiClient, TestServer};

use crate::common::{confirmed_account, me, put_photo};

fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// An ordinary 8-bit picture.
fn photo(format: ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(300, 200, |x, y| Rgb([x as u8, y as u8, 120]));
    encode(DynamicImage::ImageRgb8(img), format)
}

/// PNGs with 16 bits per channel, as photo editors and scanners export them.
fn deep_pngs() -> Vec<Vec<u8>> {
    let rgba = ImageBuffer::from_pixel(64, 48, Rgba([1000u16, 20_000, 40_000, 65_535]));
    let rgb = ImageBuffer::from_pixel(64, 48, Rgb([1000u16, 20_000, 40_000]));
    let gray = ImageBuffer::from_pixel(64, 48, Luma([30_000u16]));
    vec![
        encode(DynamicImage::ImageRgba16(rgba), ImageFormat::Png),
        encode(DynamicImage::ImageRgb16(rgb), ImageFormat::Png),
        encode(DynamicImage::ImageLuma16(gray), ImageFormat::Png),
    ]
}

/// Uploads through the profile page's form, as a browser posts it.
async fn post_photo_form(c: &ApiClient, bytes: &[u8]) -> (u16, Option<String>, String) {
    let account = me(c).await.1["id"].as_str().unwrap().to_owned();
    let boundary = "----steward-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"as_account\"\r\n\r\n{account}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = c
        .http
        .post(format!("{}/settings/profile/photo", c.base))
        .header("origin", &c.base)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, r.text().await.unwrap())
}

async fn photo_url(c: &ApiClient) -> serde_json::Value {
    c.get("/api/v1/me/profile").await.unwrap().json["photo_url"].clone()
}

#[tokio::test]
async fn a_16_bit_png_gets_a_clear_field_error_and_nothing_is_saved() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    for png in deep_pngs() {
        let r = put_photo(&ada, png).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.code(), "validation_failed");
        let why = r.field("photo").unwrap_or_default();
        assert!(why.contains("16 bits per channel"), "{why}");
        assert!(why.contains("8-bit"), "says what to do: {why}");
    }
    assert!(photo_url(&ada).await.is_null(), "nothing saved");

    // Ordinary photos still work, and a deep one then leaves the photo as it was.
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
        let r = put_photo(&ada, photo(format)).await;
        assert_eq!(r.status, 200, "{format:?}: {}", r.text);
    }
    let saved = photo_url(&ada).await;
    assert!(saved.is_string());
    let (status, _, page) = post_photo_form(&ada, &deep_pngs()[0]).await;
    assert_eq!(status, 422);
    assert!(page.contains("16 bits per channel"), "{page}");
    assert_eq!(photo_url(&ada).await, saved, "unchanged");
    s.stop().await;
}

#[tokio::test]
async fn photo_uploads_are_limited_per_account_through_the_api_and_the_page() {
    let s = TestServer::builder()
        .config(|c| c.limits.photo_uploads_per_account_per_hour = 3)
        .start()
        .await
        .unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    assert_eq!(put_photo(&ada, photo(ImageFormat::Png)).await.status, 200);
    assert_eq!(put_photo(&ada, deep_pngs()[0].clone()).await.status, 422);
    let (status, _, _) = post_photo_form(&ada, &photo(ImageFormat::Jpeg)).await;
    assert_eq!(status, 303, "saved through the page");
    let saved = photo_url(&ada).await;

    // The fourth upload within the hour, whichever way it comes.
    let r = put_photo(&ada, photo(ImageFormat::WebP)).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.code(), "rate_limited");
    assert!(
        r.field("photo").unwrap_or_default().contains("minutes"),
        "{}",
        r.text
    );
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let (status, retry, page) = post_photo_form(&ada, &photo(ImageFormat::Png)).await;
    assert_eq!(status, 429);
    let retry: u64 = retry.expect("Retry-After on the page too").parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert!(page.contains("Too many photos"), "{page}");
    assert_eq!(photo_url(&ada).await, saved, "nothing saved");

    // Per account: someone else uploads as usual.
    let bob = confirmed_account(&s, "bob@example.com", "bob").await;
    assert_eq!(put_photo(&bob, photo(ImageFormat::Png)).await.status, 200);
    // An hour later Ada may again.
    s.advance(time::Duration::hours(1));
    let r = put_photo(&ada, photo(ImageFormat::WebP)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.stop().await;
}
