//! Text people compare by eye: names and addresses that must not pass for others.
//!
//! Unicode lets two different strings look the same: a fullwidth `ａ`, a Cyrillic
//! `а`, an invisible zero-width space. Before a rule compares such text (is this
//! app name "Steward"? is this address already taken?), it is brought to one form:
//! NFKC (compatibility forms folded), invisible characters refused, and look-alike
//! characters mapped to their prototype by the confusable skeleton of Unicode
//! Technical Standard #39.

use unicode_normalization::UnicodeNormalization;
use unicode_security::skeleton;

/// Compatibility forms folded: fullwidth, ligatures, circled letters, odd spaces.
pub fn nfkc(s: &str) -> String {
    s.nfkc().collect()
}

/// Whether `c` shows nothing, or changes how what follows shows: control and format
/// characters and every Default_Ignorable_Code_Point (zero-width spaces and joiners,
/// bidirectional overrides, variation selectors, fillers, tags).
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || DEFAULT_IGNORABLE
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (16.0),
/// plus the line and paragraph separators, which no name or address needs.
const DEFAULT_IGNORABLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{2028}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// Whether `text` contains something that looks like `word`, ignoring case, spacing
/// and punctuation: "Stеward" with a Cyrillic е, "ＳＴＥＷＡＲＤ", "S t e w a r d",
/// "ЅТЕWАRD" in Cyrillic capitals, "Sτeward" with a Greek τ and "Stevvard" all
/// contain "steward".
pub fn contains_lookalike(text: &str, word: &str) -> bool {
    // Letters look alike in one case and not the other (Cyrillic Т is T, т is not t),
    // so the skeleton is taken of the text as written, lower-cased and upper-cased.
    let forms: [fn(&str) -> String; 3] = [
        |s| squeeze(skeleton(&nfkc(s))),
        |s| squeeze(skeleton(&nfkc(s).to_lowercase())),
        |s| squeeze(skeleton(&nfkc(s).to_uppercase())),
    ];
    forms.iter().any(|f| text_has(&f(text), &f(word)))
}

/// Lower-cased letters and digits only, with the ASCII pairs that read as one
/// letter ("vv" as w, "cl" as d) read as that letter.
fn squeeze(chars: impl Iterator<Item = char>) -> String {
    let s: String = chars
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect();
    s.replace("vv", "w").replace("cl", "d")
}

fn text_has(haystack: &str, needle: &str) -> bool {
    !needle.is_empty() && haystack.contains(needle)
}

/// Lower-cased, with every non-ASCII character replaced by its confusable prototype
/// and ASCII kept as it is: a key under which look-alikes made with other scripts
/// collide (`аda` with a Cyrillic а is `ada`, so is `ＡＤＡ`, and `Тom` with a
/// Cyrillic Т is `tom`), while distinct ASCII strings such as `bob1` and `bobl` stay
/// distinct.
pub fn fold_lookalikes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in nfkc(s).chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push_str(&fold_char(c));
        }
    }
    out
}

/// A non-ASCII character's stand-in: the first of its prototype as written, in lower
/// case and in upper case that is plain ASCII (a capital Cyrillic Т is T whatever
/// case it is compared in), else its lower-cased prototype.
fn fold_char(c: char) -> String {
    let lower = |s: String| s.chars().flat_map(char::to_lowercase).collect::<String>();
    let proto = |s: &str| lower(skeleton(s).collect());
    let written = proto(&c.to_string());
    let candidates = [
        written.clone(),
        proto(&c.to_lowercase().collect::<String>()),
        proto(&c.to_uppercase().collect::<String>()),
    ];
    candidates
        .into_iter()
        .find(|p| p.is_ascii())
        .unwrap_or(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_of_a_word_are_found_in_a_name() {
        for disguise in [
            "Steward",
            "My steward app",
            "Stеward",        // Cyrillic е
            "ＳＴＥＷＡＲＤ", // fullwidth
            "S t e w a r d",  // spaced out
            "ЅТЕWАRD",        // Cyrillic capitals
            "𝐒𝐭𝐞𝐰𝐚𝐫𝐝",        // mathematical bold
            "Stew-ard CLI",
        ] {
            assert!(contains_lookalike(disguise, "Steward"), "{disguise:?}");
        }
        for disguise in ["Sτeward", "Stevvard", "Stewarcl"] {
            assert!(contains_lookalike(disguise, "Steward"), "{disguise:?}");
        }
        for fine in ["Stewart", "Ward's app", "Stew", "Acme"] {
            assert!(!contains_lookalike(fine, "Steward"), "{fine:?}");
        }
    }

    #[test]
    fn invisible_characters_are_recognised() {
        for c in [
            '\u{200B}',
            '\u{200D}',
            '\u{202E}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E0041}',
            '\u{7}',
        ] {
            assert!(is_invisible(c), "{:04X}", c as u32);
        }
        for c in ['a', ' ', 'é', 'Ж', '😀', '-'] {
            assert!(!is_invisible(c), "{c}");
        }
    }

    #[test]
    fn folding_maps_other_scripts_onto_ascii_and_leaves_ascii_alone() {
        assert_eq!(fold_lookalikes("аda"), "ada", "Cyrillic а");
        assert_eq!(fold_lookalikes("ＡＤＡ"), "ada", "fullwidth");
        assert_eq!(fold_lookalikes("ADA"), "ada");
        assert_ne!(fold_lookalikes("bob1"), fold_lookalikes("bobl"));
        assert_ne!(fold_lookalikes("rn"), fold_lookalikes("m"));
        assert_eq!(fold_lookalikes("bοb"), "bob", "Greek omicron");
        // Capitals of other scripts fold like the Latin letters they look like.
        assert_eq!(fold_lookalikes("\u{0422}om"), "tom", "Cyrillic Т");
        assert_eq!(fold_lookalikes("\u{039C}ax"), "max", "Greek Μ");
        assert_eq!(fold_lookalikes("\u{13A2}om"), "tom", "Cherokee Ꭲ");
        assert_eq!(fold_lookalikes("\u{041D}\u{041E}"), "ho", "Cyrillic НО");
    }
}
