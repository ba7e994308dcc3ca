//! The loader must turn any input into a profile or a clean error, never a panic: random
//! bytes, and mutations of the real example profiles (line drops, duplicated lines,
//! character flips, truncation, indentation changes).

use std::path::Path;

use proptest::prelude::*;
use unionctl::profile;

fn examples() -> Vec<String> {
    [
        "aws-byoc",
        "aws-self-managed",
        "gcp-byoc",
        "gcp-self-managed",
        "azure-byoc",
        "azure-self-managed",
    ]
    .iter()
    .map(|n| std::fs::read_to_string(format!("profiles/{n}.yaml")).unwrap())
    .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    DropLine(usize),
    DuplicateLine(usize),
    FlipChar(usize, char),
    Truncate(usize),
    Indent(usize, bool),
    Insert(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let junk = prop_oneof![
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("{".to_string()),
        Just("]".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("!!binary ".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\t".to_string()),
        Just("null".to_string()),
        Just("99999999999999999999".to_string()),
        Just("---\n".to_string()),
        Just("? ".to_string()),
        Just("|\n".to_string()),
        Just("0x".to_string()),
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::DropLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| Mutation::FlipChar(i, c)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<bool>()).prop_map(|(i, more)| Mutation::Indent(i, more)),
        (any::<usize>(), junk).prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let n = lines.len();
    match m {
        Mutation::DropLine(i) => {
            lines.remove(i % n);
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        Mutation::FlipChar(i, c) => {
            let mut chars: Vec<char> = text.chars().collect();
            let k = i % chars.len().max(1);
            chars[k] = *c;
            return chars.into_iter().collect();
        }
        Mutation::Truncate(i) => {
            let chars: Vec<char> = text.chars().collect();
            return chars[..i % chars.len().max(1)].iter().collect();
        }
        Mutation::Indent(i, more) => {
            let l = &mut lines[i % n];
            if *more {
                l.insert(0, ' ');
            } else if l.starts_with(' ') {
                l.remove(0);
            }
        }
        Mutation::Insert(i, s) => {
            let chars: Vec<char> = text.chars().collect();
            let k = i % chars.len().max(1);
            let mut out: String = chars[..k].iter().collect();
            out.push_str(s);
            out.extend(&chars[k..]);
            return out;
        }
    }
    lines.join("\n")
}

/// Loading and, when that succeeds, planning: both must return, never panic.
fn exercise(bytes: &[u8]) {
    if let Ok(loaded) = profile::load_bytes(bytes, Path::new("fuzz.yaml")) {
        let _ = unionctl::clouds::plan(&loaded.profile, &loaded.digest);
    }
}

/// Every input that broke the loader once (fuzz/regressions/, found by the coverage-guided
/// fuzzer of fuzz/, docs/fuzzing.md) and the hand-written edge cases the fuzzer starts
/// from (fuzz/seeds/: deep nesting, alias bombs, huge numbers) load or fail cleanly.
#[test]
fn seeds_and_past_findings_never_panic() {
    let mut seen = 0;
    for dir in ["fuzz/seeds", "fuzz/regressions"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "md") {
                continue;
            }
            exercise(&std::fs::read(&path).unwrap());
            seen += 1;
        }
    }
    assert!(seen >= 5, "fuzz/seeds lost its inputs");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_examples_never_panic(which in 0usize..6, muts in proptest::collection::vec(mutation(), 1..6)) {
        let mut text = examples()[which].clone();
        for m in &muts {
            text = apply(&text, m);
        }
        exercise(text.as_bytes());
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn random_yaml_like_text_never_panics(text in "[a-z:\\-\\[\\]{}&*!|>'\" \n#0-9.,?]{0,300}") {
        exercise(text.as_bytes());
    }
}
