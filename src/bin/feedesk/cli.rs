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
    /// Collection accounts (where a unit receives money).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Fee items (tuition, materials, exam fee ...).
    #[command(subcommand)]
    Fee(FeeCommand),
    /// Fee plans: charge a class, a term or a unit.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Bills.
    #[command(subcommand)]
    Bill(BillCommand),
    /// Record an offline payment (cash, or bank transfer with its reference).
    Pay(PayArgs),
    /// Refund all or part of a payment.
    Refund(RefundArgs),
    /// Open a QR-code order for what a bill still owes, in its plan's WeChat Pay or Alipay
    /// account (a retry shows the same order).
    /// With --class and --out: a workbook of payment QR codes for every open bill of a class
    /// (for the class's parent group).
    #[command(group(clap::ArgGroup::new("what").required(true).args(["bill", "class"])))]
    Collect {
        #[arg(long)]
        bill: Option<i64>,
        /// A class: NAME or STORE/NAME.
        #[arg(long, requires = "out")]
        class: Option<String>,
        #[arg(long, value_name = "FILE.xlsx")]
        out: Option<std::path::PathBuf>,
    },
    /// E-receipts: list and search, reprint, void (红冲) and reissue, export, verify.
    #[command(subcommand)]
    Receipt(crate::receipts::ReceiptCommand),
    /// Channel orders: list them, or query every open one and settle what is paid.
    #[command(subcommand)]
    Orders(OrdersCommand),
    /// Channel bills (对账单): a day's bill downloaded through a WeChat Pay or Alipay account.
    #[command(subcommand)]
    BillFile(BillFileCommand),
    /// Reconciliation against the channels' statements: import, run, list, resolve, export.
    #[command(subcommand)]
    Reconcile(crate::reconcile::ReconcileCommand),
    /// Reports: the monthly report workbook.
    #[command(subcommand)]
    Report(crate::reconcile::ReportCommand),
    /// The books: trial balance and verification.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Billed, collected, outstanding, collection rate and aging for a subtree.
    Dashboard {
        /// The unit whose subtree to show (default HQ).
        #[arg(long, default_value = "HQ")]
        unit: String,
        /// Count aging as of this day (default today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<chrono::NaiveDate>,
    },
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The built-in payment sandbox: WeChat Pay and Alipay spoken on 127.0.0.1, for training
    /// and tests. Needs no data folder.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Reminder senders: email (SMTP), SMS (Aliyun), WeCom and DingTalk group robots.
    #[command(subcommand)]
    Notify(crate::notify::NotifyCommand),
    /// Overdue reminders: policies, preview, run (cron), log, contacts, stop list, call list.
    #[command(subcommand)]
    Remind(crate::remind::RemindCommand),
    /// The follow-up list (人工介入): bills past the last reminder.
    #[command(subcommand)]
    Followup(crate::followup::FollowupCommand),
    /// Build a realistic sample institution in an empty data folder.
    Demo,
    /// Backups: `--out FILE` writes one now (FILE.sqlite: the database alone; any other name:
    /// a zip of the whole book: database, receipt PDFs, statements, with a SHA-256 manifest);
    /// the daily backup with rotation, list, status, schedule, check.
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(subcommand)]
        cmd: Option<crate::backup::BackupCommand>,
    },
    /// Replace the book with a backup archive, after checking it (hashes, ledger, audit log,
    /// receipts); the replaced book is kept in DATA_DIR/backups. Refused while another FeeDesk
    /// process has the book open.
    Restore {
        #[arg(value_name = "FILE.zip")]
        file: PathBuf,
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
    /// guardian_phone, guardian_email, id_number, enrolled_on, status, or ignore). Repeatable.
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
    /// Check the audit log's hash chain; with --anchor, also that the audit log and the
    /// receipts still hold everything an anchor file recorded (no deleted tail, no re-chained
    /// history).
    Verify {
        #[arg(long, value_name = "FILE")]
        anchor: Option<PathBuf>,
    },
    /// Write an anchor: the audit and receipt chain heads, signed with a key kept in the OS
    /// keyring. Keep the file elsewhere (`feedesk backup` writes one beside each backup).
    Anchor {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the audit log.
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChannelArg {
    Wechat,
    Alipay,
    Unionpay,
    OfflineCash,
    OfflineBank,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum AccountCommand {
    /// Add a collection account to a unit. For wechat and alipay, give the channel's ids and
    /// key files to configure it: the keys go to the OS keyring, never to the database.
    Add {
        #[arg(long)]
        unit: String,
        #[arg(long, value_enum)]
        channel: ChannelArg,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        keys: ChannelKeyArgs,
    },
    /// Configure, or replace (rotate), the channel keys of an existing wechat or alipay
    /// account: the same flags as `add`; the keys go to the OS keyring.
    Configure {
        /// The account's id or name.
        account: String,
        #[command(flatten)]
        keys: ChannelKeyArgs,
    },
    /// Test a channel account without moving money: keys from the keyring, a signed query,
    /// the channel's signed answer verified.
    Test {
        /// The account's id or name.
        account: String,
    },
    /// List collection accounts.
    List,
    /// Archive an account (its history stays).
    Archive {
        /// The account's id or name.
        account: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeeCommand {
    /// Add a fee item to a unit.
    Add {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        name: String,
    },
    /// List fee items.
    List,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Add a plan (nothing is billed until `plan issue`).
    Add(PlanArgs),
    /// List plans.
    List {
        #[arg(long)]
        unit: Option<String>,
    },
    /// Show what issuing a plan would do, without doing it.
    Preview { plan_id: i64 },
    /// Issue a plan: a bill per targeted member; again after roster changes to catch up.
    Issue { plan_id: i64 },
    /// Rewrite a plan not yet issued (every option as for `plan add`); refused once issued.
    Edit {
        plan_id: i64,
        #[command(flatten)]
        args: PlanArgs,
    },
    /// Delete a plan not yet issued; refused once issued (void its bills instead).
    Delete { plan_id: i64 },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["class", "term", "unit"])))]
pub struct PlanArgs {
    /// The fee item: NAME, or UNIT/NAME when several units have one.
    #[arg(long)]
    pub fee: String,
    /// Charge a class: NAME, or STORE/NAME.
    #[arg(long)]
    pub class: Option<String>,
    /// Charge every member enrolled in a class of this term (within the fee item's unit).
    #[arg(long)]
    pub term: Option<String>,
    /// Charge every active member of this unit's subtree.
    #[arg(long)]
    pub unit: Option<String>,
    /// fixed:AMOUNT | split:TOTAL | tiers:YYYY-MM-DD=AMOUNT,...,AMOUNT | declared:MIN-MAX
    #[arg(long)]
    pub rule: String,
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub due: chrono::NaiveDate,
    /// The designated collection account (id or name): the only account the plan's money may go to.
    #[arg(long)]
    pub account: String,
    /// Allow partial payments.
    #[arg(long)]
    pub partial: bool,
    /// A member's discount: [STORE/]MEMBER_NO=10%:REASON or MEMBER_NO=200:REASON. Repeatable.
    #[arg(long = "discount", value_name = "MEMBER=DISCOUNT:REASON")]
    pub discounts: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum BillCommand {
    /// List bills.
    List {
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        term: Option<String>,
        /// A class: NAME or STORE/NAME.
        #[arg(long)]
        class: Option<String>,
        /// open, partial, paid, voided or refunded.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        plan: Option<i64>,
        /// A member number prefix or part of a name.
        #[arg(long)]
        search: Option<String>,
    },
    /// One bill and its payments.
    Show { bill_id: i64 },
    /// Void an unpaid bill.
    Void {
        bill_id: i64,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub struct PayArgs {
    #[arg(long)]
    pub bill: i64,
    /// The amount in yuan, e.g. 1234.50.
    #[arg(long)]
    pub amount: String,
    /// The collection account (id or name): must be the plan's designated account.
    #[arg(long)]
    pub account: String,
    /// The idempotency key: retrying with the same key never pays twice.
    #[arg(long)]
    pub key: String,
    /// The bank transfer's reference (required for bank accounts; recorded once per account).
    #[arg(long)]
    pub reference: Option<String>,
    /// Cash at the counter for a bill whose plan collects through WeChat Pay or Alipay, when
    /// the channel cannot be used: why (kept in the audit log). --account names a cash account.
    #[arg(long, value_name = "REASON")]
    pub cash_fallback: Option<String>,
}

#[derive(Debug, Args)]
pub struct RefundArgs {
    #[arg(long)]
    pub payment: i64,
    #[arg(long)]
    pub amount: String,
    #[arg(long)]
    pub reason: String,
    /// The idempotency key: retrying with the same key never refunds twice.
    #[arg(long)]
    pub key: String,
    /// Give the money back through the channel the payment came from (WeChat Pay, Alipay).
    #[arg(long)]
    pub via_channel: bool,
}

#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// Query every open order (and refund still processing) and settle what is final.
    Sync,
    /// List orders, newest first.
    List {
        #[arg(long)]
        bill: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BillFileCommand {
    /// Download one day's bill and write the CSV: WeChat Pay's trade bill (UTF-8, refused
    /// unless its SHA1 matches WeChat Pay's signed answer), or Alipay's business-detail CSV
    /// taken out of the bill zip (GBK, as delivered).
    Download {
        /// The WeChat Pay or Alipay account (name or id).
        #[arg(long)]
        account: String,
        /// The day (Beijing time).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: chrono::NaiveDate,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Debit and credit totals per account, for a unit or rolled up over its subtree.
    TrialBalance {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        rollup: bool,
    },
    /// Recompute the books from their lines and the bills; report any disagreement.
    Verify,
}

/// The port `feedesk sandbox` commands use unless told otherwise.
pub const SANDBOX_PORT: u16 = 17390;

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve WeChat Pay (base URL http://127.0.0.1:PORT) and Alipay
    /// (http://127.0.0.1:PORT/gateway.do) until interrupted.
    Serve {
        #[arg(long, default_value_t = SANDBOX_PORT)]
        port: u16,
        /// The sandbox's key set: both sides' test keys, made on first use
        /// (default: DATA_DIR/sandbox).
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
    },
    /// Mark an open order paid, as if the payer scanned and paid it.
    Pay {
        /// The order's out_trade_no.
        order: String,
        #[arg(long, default_value_t = SANDBOX_PORT)]
        port: u16,
    },
    /// Mark an open order failed.
    Fail {
        order: String,
        #[arg(long, default_value_t = SANDBOX_PORT)]
        port: u16,
    },
    /// Misbehave on the next replies: delay:MS, duplicate, reorder, bad-signature, skew:SECONDS,
    /// unknown-serial, alter-ciphertext, unsigned, wrong-amount, wrong-merchant; or
    /// tamper-bill (one amount of the next WeChat Pay trade bill download altered).
    Fault {
        kind: String,
        /// For how many replies.
        #[arg(long, default_value_t = 1)]
        times: u32,
        /// Only replies about this out_trade_no or refund number.
        #[arg(long)]
        order: Option<String>,
        #[arg(long, default_value_t = SANDBOX_PORT)]
        port: u16,
    },
    /// Forget every pending fault.
    ClearFaults {
        #[arg(long, default_value_t = SANDBOX_PORT)]
        port: u16,
    },
    /// The orders the sandbox holds.
    Orders {
        #[arg(long, default_value_t = SANDBOX_PORT)]
        port: u16,
    },
}

/// A channel account's ids and key files. Secrets are read from files (`-` for stdin), never
/// from the command line.
#[derive(Debug, Args, Default)]
pub struct ChannelKeyArgs {
    /// WeChat Pay: the merchant id (商户号).
    #[arg(long)]
    pub mch_id: Option<String>,
    /// WeChat Pay: the AppID bound to the merchant.
    #[arg(long)]
    pub appid: Option<String>,
    /// WeChat Pay: the merchant API certificate serial (商户API证书序列号).
    #[arg(long)]
    pub cert_serial: Option<String>,
    /// The merchant API private key (WeChat Pay apiclient_key.pem) or the Alipay app private
    /// key: PEM or base64.
    #[arg(long, value_name = "FILE")]
    pub private_key_file: Option<std::path::PathBuf>,
    /// WeChat Pay: a file holding the 32-character APIv3 key.
    #[arg(long, value_name = "FILE")]
    pub apiv3_key_file: Option<std::path::PathBuf>,
    /// WeChat Pay: the WeChat Pay public key (or platform certificate) PEM.
    #[arg(long, value_name = "FILE")]
    pub platform_public_key_file: Option<std::path::PathBuf>,
    /// WeChat Pay: the public key id (PUB_KEY_ID_...) or platform certificate serial.
    #[arg(long)]
    pub platform_key_id: Option<String>,
    /// Alipay: the app id.
    #[arg(long)]
    pub app_id: Option<String>,
    /// Alipay: the Alipay public key (支付宝公钥), PEM or base64.
    #[arg(long, value_name = "FILE")]
    pub alipay_public_key_file: Option<std::path::PathBuf>,
    /// The channel's API (default: production); the sandbox's URL for training.
    #[arg(long)]
    pub base_url: Option<String>,
}

impl ChannelKeyArgs {
    /// Whether any channel setting was given.
    pub fn any(&self) -> bool {
        self.mch_id.is_some()
            || self.appid.is_some()
            || self.cert_serial.is_some()
            || self.private_key_file.is_some()
            || self.apiv3_key_file.is_some()
            || self.platform_public_key_file.is_some()
            || self.platform_key_id.is_some()
            || self.app_id.is_some()
            || self.alipay_public_key_file.is_some()
            || self.base_url.is_some()
    }
}
