//! `feedesk`: every FeeDesk workflow without a window, for people at a terminal and for
//! scripts (cron, Task Scheduler). It parses arguments, calls the core, and prints: tables and
//! progress bars for people, one JSON document with `--json`. On failure it prints one line to
//! stderr and exits non-zero. No business logic lives here.

#[macro_use]
mod output;
mod backup;
mod bill_files;
mod channels;
mod cli;
mod collection;
mod followup;
mod money;
mod notify;
mod receipts;
mod reconcile;
mod remind;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run::run(args)) {
        Ok(code) => code,
        Err(e) => {
            let line = feedesk::text::bound_message(e.to_string().replace('\n', " "));
            eprintln!("error: {line}");
            ExitCode::from(1)
        }
    }
}

/// mimalloc: roster import allocates many small strings; it is markedly faster than glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
