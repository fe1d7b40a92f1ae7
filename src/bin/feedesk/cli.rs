//! The command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "feedesk",
    version,
    about = "FeeDesk: fees, receipts and books for schools, clinics and chains"
)]
pub struct Cli {
    /// The data folder (default: the platform's per-user data folder).
    #[arg(long, global = true, env = "FEEDESK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print one JSON document instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the institution (its headquarters, code HQ) in the data folder.
    Init {
        #[arg(long)]
        name: String,
    },
    /// The organisation tree: headquarters, regions, stores.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Terms (e.g. 2026秋季学期).
    #[command(subcommand)]
    Term(TermCommand),
    /// Classes a store runs in a term.
    #[command(subcommand)]
    Class(ClassCommand),
    /// Import rosters, list and undo import batches.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Members.
    #[command(subcommand)]
    Member(MemberCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Build a realistic sample institution in an empty data folder.
    Demo,
    /// Write a consistent copy of the database.
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add a region or store.
    Add {
        #[arg(long)]
        parent: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Show the tree.
    List,
    /// Rename a unit.
    Rename {
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Move a unit under another parent.
    Move {
        code: String,
        #[arg(long)]
        parent: String,
    },
    /// Archive a unit (it keeps its history).
    Archive { code: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Region,
    Store,
}

#[derive(Debug, Subcommand)]
pub enum TermCommand {
    /// Add a term.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        start: chrono::NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        end: chrono::NaiveDate,
    },
    /// List terms.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ClassCommand {
    /// Add a class to a store in a term.
    Add {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        term: String,
        #[arg(long)]
        name: String,
    },
    /// List classes.
    List {
        #[arg(long)]
        term: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a roster (.xlsx, .xls, .xlsb, .ods, .csv).
    Roster(RosterArgs),
    /// Undo an import batch while nothing depends on it.
    Undo { batch_id: i64 },
    /// List import batches.
    List,
}

#[derive(Debug, Args)]
pub struct RosterArgs {
    pub file: PathBuf,
    /// The unit to import into: the default store, and the subtree rows may name.
    #[arg(long)]
    pub unit: String,
    /// The term the class column refers to.
    #[arg(long)]
    pub term: Option<String>,
    /// The sheet to read (default: the first with a recognisable header).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Map a column explicitly: 'HEADER=field' (member_no, name, store, class, guardian_name,
    /// guardian_phone, id_number, enrolled_on, status, or ignore). Repeatable.
    #[arg(long = "map", value_name = "HEADER=field")]
    pub map: Vec<String>,
    /// Create classes the roster names that do not exist yet.
    #[arg(long)]
    pub create_classes: bool,
    /// all: commit only if every row is valid; valid: commit the valid rows.
    #[arg(long, value_enum, default_value = "all")]
    pub mode: ModeArg,
    /// Check everything and report, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the rejected rows, marked, to this workbook.
    #[arg(long, value_name = "FILE.xlsx")]
    pub errors_out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    All,
    Valid,
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List members.
    List {
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        class: Option<String>,
        #[arg(long)]
        status: Option<String>,
        /// A member number prefix, part of a name, or a phone's last digits.
        #[arg(long)]
        search: Option<String>,
        /// Show phone and ID numbers unmasked.
        #[arg(long)]
        show_pii: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain.
    Verify,
    /// Print the audit log.
    List,
}
