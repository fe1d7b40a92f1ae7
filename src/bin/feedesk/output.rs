//! Printing: JSON for scripts, aligned tables and progress bars for people.

use std::io::{IsTerminal, Write};

/// `println!` for the CLI's output: when stdout is closed early (`feedesk bill list | head`)
/// the program ends quietly, as Unix tools do, instead of panicking. Everything it printed
/// about was already committed.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::say_line(format_args!($($arg)*))
    };
}

/// Writes one line to stdout; see [`say!`].
pub fn say_line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{args}") {
        // Nothing left to tell the reader: a closed pipe ends the program successfully, any
        // other failure to write says so on stderr.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the output: {e}");
            std::process::exit(1);
        }
        std::process::exit(0);
    }
}

use feedesk::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) -> feedesk::Result<()> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| feedesk::Error::Internal(e.to_string()))?;
    say!("{text}");
    Ok(())
}

/// Prints rows under headers, columns padded to the widest cell (CJK counted double).
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(cell));
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(width(c)))))
            .collect();
        say!("{}", parts.join("  ").trim_end());
    };
    line(headers.to_vec());
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

fn width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if feedesk::text::is_cjk(c) || ('\u{3000}'..='\u{FFEF}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// A progress sink: a bar on stderr when it is a terminal and output is for people.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    pub fn new(enabled: bool) -> Bar {
        if !enabled || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] [{bar:40}] {pos}/{len} rows read · {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Bar(Some(bar))
    }

    /// Reading moves the bar; writing, which runs alongside, is counted in the message.
    pub fn update(&self, p: Progress) {
        if let Some(bar) = &self.0 {
            if p.phase == "commit" {
                bar.set_message(format!("{} records written", p.done));
            } else {
                bar.set_length(p.total.unwrap_or(p.done).max(p.done));
                bar.set_position(p.done);
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
