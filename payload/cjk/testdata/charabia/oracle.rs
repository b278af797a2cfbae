// Writes the words Qdrant 1.17.1's multilingual tokenizer gets from charabia
// 0.9.9 for each line of standard input: "JPN" when Qdrant's detection sends
// the whole line to its Japanese model, else charabia's words (segmented,
// normalised, those without a letter left out) lower-cased and joined by
// "|". Build with Cargo.toml.txt as Cargo.toml; words.tsv is
//   paste <inputs> <(charabia-oracle < inputs)
// with a tab between.
use charabia::normalizer::{ClassifierOption, NormalizerOption};
use charabia::{Language, Script, Segment, StrDetection};
use std::io::BufRead;

const N: NormalizerOption = NormalizerOption {
    create_char_map: false,
    lossy: true,
    classifier: ClassifierOption { stop_words: None, separators: None },
};

const SUPPORTED: &[Language] = &[
    Language::Eng, Language::Rus, Language::Por, Language::Ita, Language::Deu, Language::Ara,
    Language::Dan, Language::Swe, Language::Fin, Language::Tur, Language::Nld, Language::Hun,
    Language::Ell, Language::Tam, Language::Ron, Language::Cmn, Language::Jpn,
];

fn main() {
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let script = StrDetection::new(&line, Some(SUPPORTED)).script();
        if script != Script::Latin && StrDetection::new(&line, Some(SUPPORTED)).language() == Some(Language::Jpn) {
            println!("JPN");
            continue;
        }
        let toks: Vec<String> = line
            .as_str()
            .segment()
            .normalize(&N)
            .filter(|t| !t.lemma.chars().all(|c| !c.is_alphabetic()))
            .map(|t| t.lemma.to_lowercase())
            .collect();
        println!("{}", toks.join("|"));
    }
}
