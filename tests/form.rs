//! The compact encoding the reader reads forms into and the dumper places
//! from: every value comes back from it unchanged, and what the reader
//! folds while encoding (dotted tails, `#(…)`, `#s(…)`) prints as Emacs
//! reads it.

use pdmp::form::Form;
use pdmp::reader::read_one;
use proptest::prelude::*;

#[path = "common/random_values.rs"]
mod random_values;
use random_values::value;

proptest! {
    #[test]
    fn values_survive_the_encoding(v in value()) {
        let form = Form::from_value(&v);
        prop_assert_eq!(form.root().to_value(), v);
    }
}

#[test]
fn reader_folds_as_emacs_reads() {
    for (text, printed) in [
        ("(a . (b . (c)))", "(a b c)"),
        ("(a . (b . c))", "(a b . c)"),
        ("(a . nil)", "(a)"),
        ("(a . ())", "(a)"),
        ("()", "nil"),
        ("(a b . \"c\")", "(a b . \"c\")"),
        ("[a . b]", "[a \\. b]"),
        ("#(\"text\" 0 4 (face bold))", "\"text\""),
        ("#s(point 1 2)", "#s(point 1 2)"),
        ("'(x #:y #1=(z) #1#)", "'(x #:y (z) (z))"),
        ("#^^[3 0 a b]", "\n#^^[3 0 a b]"),
        (
            "#s(hash-table test eq data (k 1 k 2))",
            "#s(hash-table size 1 test eq rehash-size 1.5 rehash-threshold 0.8125 purecopy nil data (k 2))",
        ),
    ] {
        let value = read_one(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(value.to_lisp_string(), printed, "{text}");
    }
}
