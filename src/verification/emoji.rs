//! The 64 SAS emoji (Matrix specification, "SAS method: emoji"; `data-definitions/sas-emoji.json`).
//!
//! Each entry is the emoji's index (its six bits), its character(s) and its English name exactly as the
//! specification lists them. Seven entries are a base character followed by VARIATION SELECTOR-16
//! (U+FE0F); applications that compare emoji as text must keep it. `tests/sas_vectors.rs` checks this
//! table against a copy of the specification's file.

/// One SAS emoji.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Emoji {
    /// The emoji's number in the specification's table, `0..64`.
    pub index: u8,
    /// The emoji as text (one or two code points).
    pub symbol: &'static str,
    /// The English name the specification gives it.
    pub name: &'static str,
}

/// The emoji with `index`, taken modulo 64 (every index the SAS derives is below 64).
#[must_use]
#[allow(clippy::indexing_slicing)] // masked to 0..64, the table's length
pub const fn emoji(index: u8) -> Emoji {
    EMOJI[(index & 63) as usize]
}

/// The whole table, indexed by [`Emoji::index`].
#[rustfmt::skip]
pub const EMOJI: [Emoji; 64] = [
    Emoji { index: 0, symbol: "\u{1F436}", name: "Dog" },
    Emoji { index: 1, symbol: "\u{1F431}", name: "Cat" },
    Emoji { index: 2, symbol: "\u{1F981}", name: "Lion" },
    Emoji { index: 3, symbol: "\u{1F40E}", name: "Horse" },
    Emoji { index: 4, symbol: "\u{1F984}", name: "Unicorn" },
    Emoji { index: 5, symbol: "\u{1F437}", name: "Pig" },
    Emoji { index: 6, symbol: "\u{1F418}", name: "Elephant" },
    Emoji { index: 7, symbol: "\u{1F430}", name: "Rabbit" },
    Emoji { index: 8, symbol: "\u{1F43C}", name: "Panda" },
    Emoji { index: 9, symbol: "\u{1F413}", name: "Rooster" },
    Emoji { index: 10, symbol: "\u{1F427}", name: "Penguin" },
    Emoji { index: 11, symbol: "\u{1F422}", name: "Turtle" },
    Emoji { index: 12, symbol: "\u{1F41F}", name: "Fish" },
    Emoji { index: 13, symbol: "\u{1F419}", name: "Octopus" },
    Emoji { index: 14, symbol: "\u{1F98B}", name: "Butterfly" },
    Emoji { index: 15, symbol: "\u{1F337}", name: "Flower" },
    Emoji { index: 16, symbol: "\u{1F333}", name: "Tree" },
    Emoji { index: 17, symbol: "\u{1F335}", name: "Cactus" },
    Emoji { index: 18, symbol: "\u{1F344}", name: "Mushroom" },
    Emoji { index: 19, symbol: "\u{1F30F}", name: "Globe" },
    Emoji { index: 20, symbol: "\u{1F319}", name: "Moon" },
    Emoji { index: 21, symbol: "\u{2601}\u{FE0F}", name: "Cloud" },
    Emoji { index: 22, symbol: "\u{1F525}", name: "Fire" },
    Emoji { index: 23, symbol: "\u{1F34C}", name: "Banana" },
    Emoji { index: 24, symbol: "\u{1F34E}", name: "Apple" },
    Emoji { index: 25, symbol: "\u{1F353}", name: "Strawberry" },
    Emoji { index: 26, symbol: "\u{1F33D}", name: "Corn" },
    Emoji { index: 27, symbol: "\u{1F355}", name: "Pizza" },
    Emoji { index: 28, symbol: "\u{1F382}", name: "Cake" },
    Emoji { index: 29, symbol: "\u{2764}\u{FE0F}", name: "Heart" },
    Emoji { index: 30, symbol: "\u{1F600}", name: "Smiley" },
    Emoji { index: 31, symbol: "\u{1F916}", name: "Robot" },
    Emoji { index: 32, symbol: "\u{1F3A9}", name: "Hat" },
    Emoji { index: 33, symbol: "\u{1F453}", name: "Glasses" },
    Emoji { index: 34, symbol: "\u{1F527}", name: "Spanner" },
    Emoji { index: 35, symbol: "\u{1F385}", name: "Santa" },
    Emoji { index: 36, symbol: "\u{1F44D}", name: "Thumbs Up" },
    Emoji { index: 37, symbol: "\u{2602}\u{FE0F}", name: "Umbrella" },
    Emoji { index: 38, symbol: "\u{231B}", name: "Hourglass" },
    Emoji { index: 39, symbol: "\u{23F0}", name: "Clock" },
    Emoji { index: 40, symbol: "\u{1F381}", name: "Gift" },
    Emoji { index: 41, symbol: "\u{1F4A1}", name: "Light Bulb" },
    Emoji { index: 42, symbol: "\u{1F4D5}", name: "Book" },
    Emoji { index: 43, symbol: "\u{270F}\u{FE0F}", name: "Pencil" },
    Emoji { index: 44, symbol: "\u{1F4CE}", name: "Paperclip" },
    Emoji { index: 45, symbol: "\u{2702}\u{FE0F}", name: "Scissors" },
    Emoji { index: 46, symbol: "\u{1F512}", name: "Lock" },
    Emoji { index: 47, symbol: "\u{1F511}", name: "Key" },
    Emoji { index: 48, symbol: "\u{1F528}", name: "Hammer" },
    Emoji { index: 49, symbol: "\u{260E}\u{FE0F}", name: "Telephone" },
    Emoji { index: 50, symbol: "\u{1F3C1}", name: "Flag" },
    Emoji { index: 51, symbol: "\u{1F682}", name: "Train" },
    Emoji { index: 52, symbol: "\u{1F6B2}", name: "Bicycle" },
    Emoji { index: 53, symbol: "\u{2708}\u{FE0F}", name: "Aeroplane" },
    Emoji { index: 54, symbol: "\u{1F680}", name: "Rocket" },
    Emoji { index: 55, symbol: "\u{1F3C6}", name: "Trophy" },
    Emoji { index: 56, symbol: "\u{26BD}", name: "Ball" },
    Emoji { index: 57, symbol: "\u{1F3B8}", name: "Guitar" },
    Emoji { index: 58, symbol: "\u{1F3BA}", name: "Trumpet" },
    Emoji { index: 59, symbol: "\u{1F514}", name: "Bell" },
    Emoji { index: 60, symbol: "\u{2693}", name: "Anchor" },
    Emoji { index: 61, symbol: "\u{1F3A7}", name: "Headphones" },
    Emoji { index: 62, symbol: "\u{1F4C1}", name: "Folder" },
    Emoji { index: 63, symbol: "\u{1F4CC}", name: "Pin" },
];
