//! Amounts as people mistype them, through the built CLI: `1,50` is not 150.00, `1e2` is not
//! 100.00, and an amount beyond the limit says so; the same parser serves the window (amounts
//! cross IPC as strings) and plan rules.

use crate::support::common::{Env, ok, refused};

#[test]
fn mistyped_amounts_are_refused_not_guessed() {
    let env = Env::new();
    ok(&env.cli(&["init", "--name", "星火教育"]));
    for (amount, says) in [
        ("1,50", "not an amount"),
        ("1e2", "not an amount"),
        ("12,34,567", "not an amount"),
        ("1000000000000", "beyond the largest amount"),
    ] {
        let line = refused(&env.cli(&[
            "pay",
            "--bill",
            "1",
            "--amount",
            amount,
            "--account",
            "x",
            "--key",
            "k-1",
        ]));
        assert!(line.contains(says), "{amount}: {line}");
        assert!(line.contains(&format!("'{amount}'")), "{line}");
    }
}
