//! Fuzzing the configuration loader on stable Rust: arbitrary bytes, and structure-aware
//! mutations of the testdata corpus (token splices, truncation, duplication). The loader,
//! the checker and the formatter must never panic: every failure is a diagnostic.
//! `PROPTEST_CASES` raises the bounded number of cases CI runs.

use crate::util::root;
use imgform::config::check::check;
use imgform::config::load::load_str;
use imgform::diag::Diagnostics;
use proptest::prelude::*;

fn corpus() -> Vec<String> {
    let mut out = Vec::new();
    for dir in [
        "testdata/invalid",
        "testdata/valid/terraform_port",
        "testdata/valid/variables",
        "examples/quickstart",
        "examples/pipeline-build",
        "examples/multi-region",
        "testdata/fmt",
    ] {
        for e in std::fs::read_dir(root().join(dir)).expect("corpus dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "hcl") {
                out.push(std::fs::read_to_string(&p).expect("read"));
            }
        }
    }
    out.sort();
    out
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "${",
    "%{",
    "=",
    ",",
    ".",
    "*",
    "\n",
    "#",
    "/*",
    "*/",
    "<<EOF\n",
    "\nEOF\n",
    "<<-EOT\n",
    "var.",
    "local.",
    "count.index",
    "each.key",
    "alicloud_image.",
    "data.",
    "resource",
    "variable",
    "for x in ",
    " : ",
    "?",
    "null",
    "true",
    "1e309",
    "-1",
    "0x",
    "é",
    "中",
    "\u{0}",
    "\\",
    "length(",
    "format(\"%",
    "lookup(",
    "timestamp()",
    "[*]",
    ".0",
    "...",
];

fn check_text(text: &str) {
    let (mut cfg, mut diags) = load_str(&[("main.hcl", text)]);
    let dir = tempfile::tempdir().expect("tmp");
    let opts = imgform::config::check::Options {
        dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let _ = check(&mut cfg, &opts, &mut diags);
    let _: &Diagnostics = &diags;
    let _ = imgform::config::fmt::format_source(text);
}

fn mutate(base: &str, ops: &[(u8, usize, usize)]) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for &(op, a, b) in ops {
        let len = s.len().max(1);
        let (i, j) = (a % len, b % len);
        match op % 5 {
            0 => {
                let t: Vec<char> = TOKENS[b % TOKENS.len()].chars().collect();
                let at = i.min(s.len());
                s.splice(at..at, t);
            }
            1 => {
                let (x, y) = (i.min(j), i.max(j).min(s.len()));
                s.drain(x..y.min(x + 40).min(s.len()));
            }
            2 => s.truncate(i),
            3 => {
                let (x, y) = (i.min(j), i.max(j).min(s.len()));
                let chunk: Vec<char> = s[x..y.min(x + 80)].to_vec();
                let at = y.min(s.len());
                s.splice(at..at, chunk);
            }
            _ => {
                if i < s.len() {
                    s[i] = char::from_u32((b % 0x3000) as u32).unwrap_or('x');
                }
            }
        }
    }
    s.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_text(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_corpus_never_panics(pick in any::<usize>(), ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..6)) {
        let c = corpus();
        let base = &c[pick % c.len()];
        check_text(&mutate(base, &ops));
    }
}
