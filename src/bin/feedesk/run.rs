//! Dispatch: each command is one call into the core and one print.

use std::process::ExitCode;

use feedesk::org::{self, MemberFilter, UnitKind, UnitNode};
use feedesk::progress::CancelToken;
use feedesk::roster::{self, ImportMode, ImportReport, ImportRequest, MapOverride};
use feedesk::{Error, FeeDesk, Result};
use serde_json::json;

use crate::bill_files;
use crate::channels;
use crate::cli::*;
use crate::collection;
use crate::money;
use crate::output::{self, Bar, table};

/// Exit code when an all-or-nothing import committed nothing because of row errors.
const EXIT_ROWS_REJECTED: u8 = 2;

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(feedesk::desk::default_data_dir);
    if let Command::Sandbox(cmd) = cli.command {
        return channels::sandbox(cmd, &data_dir, cli.json).await;
    }
    if let Command::Restore { file } = &cli.command {
        // Opens no book itself: the restore locks the folder exclusively.
        crate::backup::restore(&data_dir, file, cli.json).await?;
        return Ok(ExitCode::SUCCESS);
    }
    if !matches!(cli.command, Command::Init { .. } | Command::Demo)
        && !data_dir.join(feedesk::db::DB_FILE).exists()
    {
        return Err(Error::NotFound(format!(
            "no FeeDesk data in {}; start with `feedesk --data-dir {} init --name NAME`",
            data_dir.display(),
            data_dir.display()
        )));
    }
    let desk = FeeDesk::open(&data_dir).await?;
    let outcome = dispatch(&desk, cli, &data_dir).await;
    desk.db().clone().close().await;
    outcome
}

async fn dispatch(desk: &FeeDesk, cli: Cli, data_dir: &std::path::Path) -> Result<ExitCode> {
    let json = cli.json;
    match cli.command {
        Command::Init { name } => {
            let hq = org::init(desk, &name).await?;
            if json {
                output::json(&hq)?;
            } else {
                say!(
                    "Created {} (code {}) in {}",
                    hq.name,
                    hq.code,
                    data_dir.display()
                );
            }
        }
        Command::Org(cmd) => org_command(desk, cmd, json).await?,
        Command::Term(cmd) => term_command(desk, cmd, json).await?,
        Command::Class(cmd) => class_command(desk, cmd, json).await?,
        Command::Import(ImportCommand::Roster(args)) => {
            return import_roster(desk, args, json).await;
        }
        Command::Import(ImportCommand::Undo { batch_id }) => {
            let r = roster::undo_batch(desk, batch_id).await?;
            if json {
                output::json(&r)?;
            } else {
                say!(
                    "Undid batch {}: {} member(s) removed, {} restored, {} enrolment(s) and {} class(es) removed",
                    r.batch_id,
                    r.members_removed,
                    r.members_restored,
                    r.enrolments_removed,
                    r.classes_removed
                );
            }
        }
        Command::Import(ImportCommand::List) => {
            let batches = roster::list_batches(desk).await?;
            if json {
                output::json(&batches)?;
            } else {
                let rows = batches
                    .iter()
                    .map(|b| {
                        vec![
                            b.id.to_string(),
                            feedesk::clock::local_display(&b.created_at),
                            b.file_name.clone(),
                            b.unit.clone(),
                            b.imported.to_string(),
                            b.updated.to_string(),
                            b.rejected.to_string(),
                            b.undone_at
                                .clone()
                                .map(|_| "undone".into())
                                .unwrap_or_default(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(
                    &[
                        "batch", "at", "file", "unit", "new", "updated", "rejected", "",
                    ],
                    &rows,
                );
            }
        }
        Command::Member(MemberCommand::List {
            unit,
            class,
            status,
            search,
            show_pii,
        }) => {
            let members = org::list_members(
                desk,
                &MemberFilter {
                    unit_code: unit,
                    class_name: class,
                    status,
                    search,
                    show_pii,
                },
            )
            .await?;
            if json {
                output::json(&members)?;
            } else {
                let rows = members
                    .iter()
                    .map(|m| {
                        vec![
                            m.unit.clone(),
                            m.member_no.clone(),
                            m.name.clone(),
                            m.classes.join("、"),
                            m.guardian_name.clone().unwrap_or_default(),
                            m.guardian_phone.clone().unwrap_or_default(),
                            m.id_number.clone().unwrap_or_default(),
                            m.enrolled_on.clone().unwrap_or_default(),
                            m.status.clone(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(
                    &[
                        "store",
                        "member_no",
                        "name",
                        "classes",
                        "guardian",
                        "phone",
                        "id_number",
                        "enrolled_on",
                        "status",
                    ],
                    &rows,
                );
                say!("{} member(s)", members.len());
            }
        }
        Command::Account(cmd) => money::account(desk, cmd, json).await?,
        // Handled before a data folder is opened (see `run`).
        Command::Sandbox(cmd) => return channels::sandbox(cmd, data_dir, json).await,
        Command::Fee(cmd) => money::fee(desk, cmd, json).await?,
        Command::Plan(cmd) => money::plan(desk, cmd, json).await?,
        Command::Bill(cmd) => money::bill(desk, cmd, json).await?,
        Command::Pay(args) => money::pay(desk, args, json).await?,
        Command::Refund(args) if args.via_channel => collection::refund(desk, args, json).await?,
        Command::Refund(args) => money::refund(desk, args, json).await?,
        Command::Collect {
            bill: Some(bill), ..
        } => collection::collect(desk, bill, json).await?,
        Command::Collect {
            class: Some(class),
            out: Some(out),
            ..
        } => collection::export_qr(desk, &class, &out, json).await?,
        Command::Collect { .. } => unreachable!("clap requires --bill or --class with --out"),
        Command::Orders(cmd) => collection::orders(desk, cmd, json).await?,
        Command::Receipt(cmd) => return crate::receipts::receipt(desk, cmd, json).await,
        Command::BillFile(cmd) => bill_files::bill_file(desk, cmd, json).await?,
        Command::Reconcile(cmd) => crate::reconcile::reconcile(desk, cmd, json).await?,
        Command::Report(cmd) => crate::reconcile::report(desk, cmd, json).await?,
        Command::Ledger(cmd) => return money::ledger(desk, cmd, json).await,
        Command::Notify(cmd) => crate::notify::notify(desk, cmd, json).await?,
        Command::Remind(cmd) => crate::remind::remind(desk, cmd, json).await?,
        Command::Followup(cmd) => crate::followup::followup(desk, cmd, json).await?,
        Command::Dashboard { unit, as_of } => money::dashboard(desk, &unit, as_of, json).await?,
        Command::Audit(AuditCommand::Verify { anchor: None }) => {
            let n = feedesk::audit::verify(desk.db().pool()).await?;
            if json {
                output::json(&json!({"intact": true, "entries": n}))?;
            } else {
                say!("Audit log intact: {n} entries");
            }
        }
        Command::Audit(AuditCommand::Verify { anchor: Some(file) }) => {
            use feedesk::anchor;
            let secrets = feedesk::secrets::SecretStore::from_env();
            let check = anchor::verify(desk, &secrets, &anchor::read(&file)?).await?;
            if json {
                output::json(&check)?;
            } else if check.ok() {
                say!(
                    "Intact against {}: {} audit entries, {} receipts",
                    file.display(),
                    check.audit_entries,
                    check.receipts
                );
            }
            if !check.ok() {
                for p in &check.problems {
                    eprintln!("{p}");
                }
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Audit(AuditCommand::Anchor { out }) => {
            let secrets = feedesk::secrets::SecretStore::from_env();
            let anchor = feedesk::anchor::write(desk, &secrets, &out).await?;
            if json {
                output::json(&anchor)?;
            } else {
                say!(
                    "Anchored {} audit entries and {} receipts in {}",
                    anchor.audit.entries,
                    anchor.receipts.entries,
                    out.display()
                );
            }
        }
        Command::Audit(AuditCommand::List) => {
            let records = feedesk::audit::list(desk.db().pool()).await?;
            if json {
                output::json(&records)?;
            } else {
                let rows = records
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.to_string(),
                            feedesk::clock::local_display(&r.at),
                            r.actor.clone(),
                            r.action.clone(),
                            r.entity_id.clone().unwrap_or_default(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["#", "at", "who", "what", "record"], &rows);
            }
        }
        Command::Demo => {
            let bar = Bar::new(!json);
            let report = feedesk::demo::build(desk, &|p| bar.update(p), &CancelToken::new()).await;
            bar.finish();
            let report = report?;
            if json {
                output::json(&report)?;
            } else {
                say!(
                    "Built {} in {}: {} regions, {} stores, {} classes",
                    report.institution,
                    data_dir.display(),
                    report.regions,
                    report.stores,
                    report.classes
                );
                print_import(&report.import);
                let b = &report.billing;
                say!(
                    "Money: {} accounts, {} plans, {} bills ({} billed), {} payments ({} collected), {} refunds",
                    b.accounts,
                    b.plans,
                    b.bills,
                    b.billed,
                    b.payments,
                    b.collected,
                    b.refunds
                );
                let c = &report.channels;
                match &c.skipped {
                    Some(why) => say!("QR collection through the sandbox skipped: {why}"),
                    None => say!(
                        "QR collection through the sandbox ({}): {} orders, {} paid, {} refunded through the channel; \
                         `feedesk --data-dir {} sandbox serve --port {}` brings the sandbox back",
                        c.sandbox.as_deref().unwrap_or("?"),
                        c.orders,
                        c.paid,
                        c.refunded_via_channel,
                        data_dir.display(),
                        feedesk::demo::SANDBOX_PORT
                    ),
                }
                let r = &report.receipts;
                say!(
                    "Receipts: {} issued with the payments ({} 红冲 reversals), {} PDFs archived; \
                     `feedesk --data-dir {} receipt verify` checks them",
                    r.receipts,
                    r.reversals,
                    r.archived,
                    data_dir.display()
                );
                let r = &report.reconciliation;
                match &r.skipped {
                    Some(why) => say!("Reconciliation skipped: {why}"),
                    None => say!(
                        "Reconciliation of {} on {}: {} lines; matched {}, amount mismatch {}, ours only {}, channel only {}, refund mismatch {}; fees {}",
                        r.account,
                        r.day,
                        r.lines,
                        r.matched,
                        r.amount_mismatch,
                        r.ours_only,
                        r.channel_only,
                        r.refund_mismatch,
                        r.fees_total
                    ),
                }
                say!("Try: feedesk --data-dir {} dashboard", data_dir.display());
            }
        }
        Command::Backup { out: Some(out), .. } => {
            crate::backup::backup_out(desk, &out, json).await?;
        }
        Command::Backup { cmd: Some(cmd), .. } => {
            crate::backup::backup_command(desk, cmd, json).await?;
        }
        Command::Backup { .. } => {
            return Err(Error::Validation(
                "say where: `feedesk backup --out FILE`, or `feedesk backup run` for the daily backup"
                    .into(),
            ));
        }
        // Handled before a book is opened (see `run`).
        Command::Restore { .. } => unreachable!("restore runs before a book is opened"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn org_command(desk: &FeeDesk, cmd: OrgCommand, json: bool) -> Result<()> {
    let unit = match cmd {
        OrgCommand::List => {
            let tree = org::tree(desk).await?;
            if json {
                return output::json(&tree);
            }
            match tree {
                Some(root) => print_tree(&root, 0),
                None => say!("No institution yet: run `feedesk init --name NAME`"),
            }
            return Ok(());
        }
        OrgCommand::Add {
            parent,
            kind,
            code,
            name,
        } => {
            let kind = match kind {
                KindArg::Region => UnitKind::Region,
                KindArg::Store => UnitKind::Store,
            };
            org::add_unit(desk, &parent, kind, &code, &name).await?
        }
        OrgCommand::Rename { code, name } => org::rename_unit(desk, &code, &name).await?,
        OrgCommand::Move { code, parent } => org::move_unit(desk, &code, &parent).await?,
        OrgCommand::Archive { code } => org::archive_unit(desk, &code).await?,
    };
    if json {
        output::json(&unit)
    } else {
        say!(
            "{} {} {}{}",
            unit.kind.as_str(),
            unit.code,
            unit.name,
            if unit.archived { " (archived)" } else { "" }
        );
        Ok(())
    }
}

fn print_tree(node: &UnitNode, depth: usize) {
    say!(
        "{}{} {} [{}]{}",
        "  ".repeat(depth),
        node.code,
        node.name,
        match node.kind {
            UnitKind::Hq => "hq",
            UnitKind::Region => "region",
            UnitKind::Store => "store",
        },
        if node.archived { " (archived)" } else { "" }
    );
    for child in &node.children {
        print_tree(child, depth + 1);
    }
}

async fn term_command(desk: &FeeDesk, cmd: TermCommand, json: bool) -> Result<()> {
    match cmd {
        TermCommand::Add { name, start, end } => {
            let term = org::add_term(desk, &name, start, end).await?;
            if json {
                output::json(&term)?;
            } else {
                say!("Term {} ({} – {})", term.name, term.starts_on, term.ends_on);
            }
        }
        TermCommand::List => {
            let terms = org::list_terms(desk).await?;
            if json {
                output::json(&terms)?;
            } else {
                let rows = terms
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            t.starts_on.to_string(),
                            t.ends_on.to_string(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["term", "start", "end"], &rows);
            }
        }
    }
    Ok(())
}

async fn class_command(desk: &FeeDesk, cmd: ClassCommand, json: bool) -> Result<()> {
    match cmd {
        ClassCommand::Add { unit, term, name } => {
            let class = org::add_class(desk, &unit, &term, &name).await?;
            if json {
                output::json(&class)?;
            } else {
                say!(
                    "Class {} at {} in {}",
                    class.name,
                    class.unit_code,
                    class.term_name
                );
            }
        }
        ClassCommand::List { term } => {
            let classes = org::list_classes(desk, term.as_deref()).await?;
            if json {
                output::json(&classes)?;
            } else {
                let rows = classes
                    .iter()
                    .map(|c| {
                        vec![
                            c.unit_code.clone(),
                            c.term_name.clone(),
                            c.name.clone(),
                            c.members.to_string(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["store", "term", "class", "members"], &rows);
            }
        }
    }
    Ok(())
}

async fn import_roster(desk: &FeeDesk, args: RosterArgs, json: bool) -> Result<ExitCode> {
    let overrides = args
        .map
        .iter()
        .map(|m| MapOverride::parse(m))
        .collect::<Result<Vec<_>>>()?;
    let req = ImportRequest {
        file: args.file,
        unit_code: args.unit,
        term_name: args.term,
        sheet: args.sheet,
        overrides,
        create_classes: args.create_classes,
        mode: match args.mode {
            ModeArg::All => ImportMode::All,
            ModeArg::Valid => ImportMode::Valid,
        },
        dry_run: args.dry_run,
        errors_out: args.errors_out,
    };
    let bar = Bar::new(!json);
    let report = roster::import_roster(desk, &req, &|p| bar.update(p), &CancelToken::new()).await;
    bar.finish();
    let report = report?;
    if json {
        output::json(&report)?;
    } else {
        print_import(&report);
    }
    let refused = !report.committed && !report.dry_run;
    Ok(if refused {
        ExitCode::from(EXIT_ROWS_REJECTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// How many row problems a person sees in the terminal; the rest are counted, never dropped
/// silently, and all are in `--json` and the error workbook.
const SHOWN_ERRORS: usize = 200;

fn print_import(r: &ImportReport) {
    say!(
        "File {} · sheet '{}' · header on row {}",
        r.file,
        r.sheet,
        r.header_row
    );
    let mapped: Vec<String> = r
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} -> {}",
                c.header,
                c.field.map(|f| f.as_str()).unwrap_or("(ignored)")
            )
        })
        .collect();
    say!("Columns: {}", mapped.join(", "));
    say!(
        "Rows: {} read, {} new, {} updated, {} unchanged, {} blank, {} rejected{}",
        r.rows_read,
        r.imported,
        r.updated,
        r.unchanged,
        r.blank,
        r.rejected,
        if r.classes_created > 0 {
            format!(", {} class(es) created", r.classes_created)
        } else {
            String::new()
        }
    );
    for m in &r.class_merges {
        say!(
            "Class {} {} also written as: {}",
            m.store,
            m.class,
            m.names.join(" | ")
        );
    }
    if !r.errors.is_empty() {
        let rows = r
            .errors
            .iter()
            .take(SHOWN_ERRORS)
            .map(|e| {
                vec![
                    e.row.to_string(),
                    e.column.clone(),
                    e.code.to_string(),
                    e.message.clone(),
                ]
            })
            .collect::<Vec<_>>();
        table(&["row", "column", "problem", "what to do"], &rows);
        if r.errors.len() > SHOWN_ERRORS {
            say!(
                "... and {} more problems (see --json or --errors-out)",
                r.errors.len() - SHOWN_ERRORS
            );
        }
    }
    if let Some(path) = &r.errors_workbook {
        say!("Error workbook: {path}");
    }
    let outcome = match (r.dry_run, r.committed, r.batch_id) {
        (true, _, _) => "Dry run: nothing was written.".to_string(),
        (false, false, _) => "Nothing was imported: fix the rows above and import again, or use --mode valid to import the valid rows.".into(),
        (false, true, Some(id)) => format!("Committed as batch {id} (undo with `feedesk import undo {id}`)."),
        (false, true, None) => "Nothing to change: the roster matches what FeeDesk holds.".into(),
    };
    say!("{outcome}");
}
