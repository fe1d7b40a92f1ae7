//! Checking every roster row and turning it into a clean candidate member, or into precise
//! problems, each pinned to the sheet row and column a person sees.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rustc_hash::FxHashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::cell::Cell;
use super::header::{Column, Field};
use super::id_number::{self, IdProblem};
use super::normalize;
use crate::org::{Unit, UnitKind};
use crate::text::{class_key, clip, match_key, normalize, normalize_name};

/// One problem in one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RowError {
    /// 1-based sheet row, as Excel shows it.
    pub row: u32,
    /// The header text of the offending column.
    pub column: String,
    /// The field that column carries.
    pub field: Option<Field>,
    /// Stable problem code, e.g. `phone_invalid`.
    pub code: &'static str,
    /// What is wrong and what to do, for a person.
    pub message: String,
}

/// Class names in a file taken as one class (they differ only in bracket style, width,
/// spacing or letter case): listed by dry runs and imports so nothing is merged unseen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClassMerge {
    /// The store's code.
    pub store: String,
    /// The class they are taken as: the term's class, or the first spelling in the file.
    pub class: String,
    /// The other spellings read.
    pub names: Vec<String>,
}

/// A valid row: the member as it should be after import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub row: u32,
    pub unit_id: i64,
    pub member_no: String,
    pub name: String,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub guardian_email: Option<String>,
    pub id_number: Option<String>,
    pub enrolled_on: Option<NaiveDate>,
    pub status: Option<&'static str>,
    /// Class names (normalised) in the import's term at the member's store.
    pub classes: Vec<String>,
}

/// Where the roster's stores may come from.
#[derive(Debug)]
pub struct StoreScope {
    /// The store used when a row names none (the `--unit`, when it is a store).
    pub default_store: Option<i64>,
    /// Units a row may name: the `--unit` subtree.
    pub allowed: HashSet<i64>,
    /// Every unit by code and by name key.
    pub by_code: HashMap<String, Unit>,
    pub by_name: HashMap<String, Vec<Unit>>,
    /// The `--unit` code, for messages.
    pub scope_code: String,
}

impl StoreScope {
    /// Builds the scope for an import into `scope` (a unit and its subtree).
    pub fn new(units: Vec<Unit>, scope: &Unit, allowed: HashSet<i64>) -> StoreScope {
        let mut by_code = HashMap::new();
        let mut by_name: HashMap<String, Vec<Unit>> = HashMap::new();
        for u in units {
            by_name
                .entry(match_key(&u.name))
                .or_default()
                .push(u.clone());
            by_code.insert(u.code.clone(), u);
        }
        StoreScope {
            default_store: (scope.kind == UnitKind::Store).then_some(scope.id),
            allowed,
            by_code,
            by_name,
            scope_code: scope.code.clone(),
        }
    }
}

/// Checks rows one by one, remembering what earlier rows claimed.
#[derive(Debug)]
pub struct Validator<'a> {
    columns: Vec<Column>,
    stores: &'a StoreScope,
    /// Classes of the import's term: (store id, class name) exists.
    classes: &'a HashSet<(i64, String)>,
    create_classes: bool,
    /// Every class known by (store id, [`class_key`]): the term's classes, and with
    /// `create_classes` the names first seen in the file, under the name they are kept as.
    class_names: FxHashMap<(i64, String), String>,
    /// Names read that were taken as another spelling of a class: (store id, class) -> names.
    merged: BTreeMap<(i64, String), BTreeSet<String>>,
    /// (store, member number) seen, by a 64-bit digest, with the row: 16 bytes a row however
    /// long the numbers, so a file of millions of rows stays small. Two different numbers
    /// sharing a digest (odds about 1 in 10^7 for a million rows) would be reported as a
    /// duplicate naming the earlier row, never merged silently.
    seen_members: FxHashMap<u64, u32>,
    /// Valid ID numbers seen (always 18 ASCII bytes), with their row and the digest of the
    /// member number that carried it.
    seen_ids: FxHashMap<[u8; 18], (u32, u64)>,
}

impl<'a> Validator<'a> {
    pub fn new(
        columns: Vec<Column>,
        stores: &'a StoreScope,
        classes: &'a HashSet<(i64, String)>,
        create_classes: bool,
        expected_rows: usize,
    ) -> Self {
        let mut sorted: Vec<&(i64, String)> = classes.iter().collect();
        sorted.sort();
        let mut class_names = FxHashMap::default();
        for (unit, name) in sorted {
            // Two near-identical classes already in the term: the first by name is matched.
            class_names
                .entry((*unit, class_key(name)))
                .or_insert_with(|| name.clone());
        }
        Validator {
            columns,
            stores,
            classes,
            create_classes,
            class_names,
            merged: BTreeMap::new(),
            seen_members: FxHashMap::with_capacity_and_hasher(expected_rows, Default::default()),
            seen_ids: FxHashMap::with_capacity_and_hasher(expected_rows, Default::default()),
        }
    }

    /// The column mapping and the class names merged, given back when validation is done.
    pub fn finish(self) -> (Vec<Column>, Vec<ClassMerge>) {
        let merges = self
            .merged
            .iter()
            .map(|((unit, class), names)| ClassMerge {
                store: self.store_code(*unit),
                class: class.clone(),
                names: names.iter().cloned().collect(),
            })
            .collect();
        (self.columns, merges)
    }

    /// The class a name read in the file means at `unit_id`: the term's class (or one the file
    /// named first, when creating) spelled differently, the name itself when new, or `None`
    /// when unknown and not to be created.
    fn resolve_class(&mut self, unit_id: i64, name: &str) -> Option<String> {
        if self.classes.contains(&(unit_id, name.to_string())) {
            return Some(name.to_string());
        }
        let key = (unit_id, class_key(name));
        match self.class_names.get(&key) {
            Some(known) if known == name => Some(known.clone()),
            Some(known) => {
                let known = known.clone();
                self.merged
                    .entry((unit_id, known.clone()))
                    .or_default()
                    .insert(name.to_string());
                Some(known)
            }
            None if self.create_classes => {
                self.class_names.insert(key, name.to_string());
                Some(name.to_string())
            }
            None => None,
        }
    }

    /// Validates one non-blank row.
    pub fn check(&mut self, row: u32, cells: &[Cell]) -> Result<Candidate, Vec<RowError>> {
        let mut errors = Vec::new();
        let columns = &self.columns;
        let mut err = |field: Field, code: &'static str, message: String| {
            errors.push(RowError {
                row,
                column: header_of(columns, field),
                field: Some(field),
                code,
                message,
            })
        };
        let cell = |field: Field| -> Option<&Cell> {
            columns
                .iter()
                .find(|c| c.field == Some(field))
                .and_then(|c| cells.get(c.index))
                .filter(|c| !c.is_blank() && !matches!(c, Cell::Error(_) | Cell::Uncalculated))
        };
        // A formula never calculated is reported as that, not as a missing value.
        let uncalculated = |field: Field| {
            columns
                .iter()
                .find(|c| c.field == Some(field))
                .and_then(|c| cells.get(c.index))
                .is_some_and(|c| matches!(c, Cell::Uncalculated))
        };
        // A spreadsheet error value (#N/A, #REF!) is never data: name it, then treat the cell
        // as empty (so a required field also reports what is missing).
        for column in columns.iter() {
            let Some(field) = column.field else {
                continue;
            };
            match cells.get(column.index) {
                Some(Cell::Error(e)) => err(
                    field,
                    "cell_error",
                    format!(
                        "the cell holds the spreadsheet error {}, not a value; fix the formula or type the value",
                        clip(e)
                    ),
                ),
                Some(Cell::Uncalculated) => err(
                    field,
                    "formula_not_calculated",
                    format!(
                        "the cell ({}{row}) holds a formula that was never calculated: open and save the file in Excel or WPS, or paste values",
                        crate::columns::column_letter_of(column.index)
                    ),
                ),
                Some(Cell::Text(t)) => {
                    if let Some(c) = crate::text::forbidden_char(t) {
                        err(
                            field,
                            "control_character",
                            format!(
                                "the cell ({}{row}) holds the invisible control character U+{:04X}, which cannot be shown, printed or sent; retype the value",
                                crate::columns::column_letter_of(column.index),
                                c as u32
                            ),
                        );
                    }
                }
                _ => {}
            }
        }

        let member_no = cell(Field::MemberNo).map(|c| normalize(&c.text()));
        match &member_no {
            None if uncalculated(Field::MemberNo) => {}
            None => err(
                Field::MemberNo,
                "required",
                "member number is missing; every member needs one, unique in the store".into(),
            ),
            Some(no) if no.chars().count() > 32 => err(
                Field::MemberNo,
                "too_long",
                format!("member number '{}' is longer than 32 characters", clip(no)),
            ),
            _ => {}
        }
        let name = cell(Field::Name).map(|c| normalize_name(&c.text()));
        match &name {
            None if uncalculated(Field::Name) => {}
            None => err(Field::Name, "required", "name is missing".into()),
            Some(n) if n.chars().count() > 50 => err(
                Field::Name,
                "too_long",
                format!("name '{}' is longer than 50 characters", clip(n)),
            ),
            _ => {}
        }
        let guardian_phone = match cell(Field::GuardianPhone) {
            None if uncalculated(Field::GuardianPhone) => None,
            None => {
                err(Field::GuardianPhone, "required", "guardian phone is missing; reminders and receipts need it".into());
                None
            }
            Some(c) => normalize::phone(c).or_else(|| {
                err(Field::GuardianPhone, "phone_invalid", format!(
                    "'{}' is not a mainland mobile number: 11 digits starting with 13-19 (spaces, dashes and +86 are fine)",
                    clip(&c.text())
                ));
                None
            }),
        };
        let guardian_email = match cell(Field::GuardianEmail) {
            None => None,
            Some(c) => crate::org::check_email(&c.text()).or_else(|| {
                err(Field::GuardianEmail, "email_invalid", format!(
                    "'{}' is not an email address (name@example.cn); fix it or leave the cell empty",
                    clip(&c.text())
                ));
                None
            }),
        };
        let guardian_name = cell(Field::GuardianName).map(|c| normalize_name(&c.text()));
        if let Some(g) = &guardian_name
            && g.chars().count() > 50
        {
            err(
                Field::GuardianName,
                "too_long",
                format!("guardian name '{}' is longer than 50 characters", clip(g)),
            );
        }
        let id_number = match cell(Field::IdNumber) {
            None => None,
            Some(c) => match check_id(c) {
                Ok(id) => Some(id),
                Err((code, message)) => {
                    err(Field::IdNumber, code, message);
                    None
                }
            },
        };
        let enrolled_on = match cell(Field::EnrolledOn) {
            None => None,
            Some(c) => normalize::date(c).or_else(|| {
                err(
                    Field::EnrolledOn,
                    "date_invalid",
                    format!(
                        "'{}' is not a date; write it like 2026-09-01, 2026/9/1 or 2026年9月1日",
                        clip(&c.text())
                    ),
                );
                None
            }),
        };
        let status = match cell(Field::Status) {
            None => None,
            Some(c) => normalize::status(c).or_else(|| {
                err(
                    Field::Status,
                    "status_invalid",
                    format!(
                        "'{}' is not a status; use 在读/active or 退学/withdrawn",
                        clip(&c.text())
                    ),
                );
                None
            }),
        };
        let unit_id = match self.resolve_store(cell(Field::Store)) {
            Ok(id) => Some(id),
            Err((code, message)) => {
                err(Field::Store, code, message);
                None
            }
        };
        let classes: Vec<String> = cell(Field::Class)
            .map(|c| {
                normalize(&c.text())
                    .split(['、', ',', ';', '，', '；'])
                    .map(normalize)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        // "一班、一班" names one class once.
        let classes: Vec<String> = classes
            .iter()
            .enumerate()
            .filter(|(i, c)| !classes[..*i].contains(c))
            .map(|(_, c)| c.clone())
            .collect();
        let mut resolved: Vec<String> = Vec::with_capacity(classes.len());
        let mut unknown: Vec<String> = Vec::new();
        if let Some(unit_id) = unit_id {
            for class in &classes {
                match self.resolve_class(unit_id, class) {
                    Some(c) if resolved.contains(&c) => {}
                    Some(c) => resolved.push(c),
                    None => unknown.push(class.clone()),
                }
            }
        }
        let classes = resolved;
        let columns = &self.columns;
        let mut err = |field: Field, code: &'static str, message: String| {
            errors.push(RowError {
                row,
                column: header_of(columns, field),
                field: Some(field),
                code,
                message,
            })
        };
        if let Some(unit_id) = unit_id {
            for class in &unknown {
                {
                    let store = self.store_code(unit_id);
                    err(
                        Field::Class,
                        "unknown_class",
                        format!(
                            "{store} has no class '{}' in this term; add it first or import with --create-classes",
                            clip(class)
                        ),
                    );
                }
            }
        }

        // Duplicates are judged only between rows whose identity is readable; the later row
        // is the one reported.
        if let (Some(unit_id), Some(no)) = (unit_id, &member_no) {
            let member_key = member_digest(unit_id, no);
            // The ID check compares member numbers alone, whatever the store.
            let number_key = member_digest(0, no);
            match self.seen_members.get(&member_key) {
                Some(first) => err(
                    Field::MemberNo,
                    "duplicate_in_file",
                    format!(
                        "member number {no} already appears in row {first} for the same store; keep one row per member"
                    ),
                ),
                None => {
                    self.seen_members.insert(member_key, row);
                }
            }
            if let Some(key) = id_number
                .as_deref()
                .and_then(|id| <[u8; 18]>::try_from(id.as_bytes()).ok())
            {
                match self.seen_ids.get(&key) {
                    Some((first, other)) if *other != number_key => err(
                        Field::IdNumber,
                        "duplicate_id_number",
                        format!("this ID number is already used by another member, in row {first}"),
                    ),
                    Some(_) => {}
                    None => {
                        self.seen_ids.insert(key, (row, number_key));
                    }
                }
            }
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(unit_id), Some(member_no), Some(name)) = (unit_id, member_no, name) else {
            unreachable!("missing identity is always reported as an error above")
        };
        Ok(Candidate {
            row,
            unit_id,
            member_no,
            name,
            guardian_name,
            guardian_phone,
            guardian_email,
            id_number,
            enrolled_on,
            status,
            classes,
        })
    }

    fn store_code(&self, unit_id: i64) -> String {
        self.stores
            .by_code
            .values()
            .find(|u| u.id == unit_id)
            .map(|u| u.code.clone())
            .unwrap_or_default()
    }

    fn resolve_store(&self, cell: Option<&Cell>) -> Result<i64, (&'static str, String)> {
        let scope = &self.stores.scope_code;
        let Some(cell) = cell else {
            return self.stores.default_store.ok_or_else(|| ("required", format!(
                "no store given, and {scope} is not a store; fill in the store column (code or name)"
            )));
        };
        let text = normalize(&cell.text());
        let unit = match self.stores.by_code.get(&text.to_ascii_uppercase()) {
            Some(u) => u.clone(),
            None => match self
                .stores
                .by_name
                .get(&match_key(&text))
                .map(Vec::as_slice)
            {
                Some([u]) => u.clone(),
                Some([_, _, ..]) => {
                    return Err((
                        "ambiguous_store",
                        format!(
                            "several units are named '{}'; use the store code instead",
                            clip(&text)
                        ),
                    ));
                }
                _ => {
                    return Err((
                        "unknown_store",
                        format!(
                            "no store '{}'; use a store code or name from `feedesk org list`",
                            clip(&text)
                        ),
                    ));
                }
            },
        };
        if unit.kind != UnitKind::Store {
            return Err((
                "not_a_store",
                format!("{} is a {}, not a store", unit.code, unit.kind.as_str()),
            ));
        }
        if unit.archived {
            return Err((
                "store_archived",
                format!(
                    "store {} is archived; members cannot be added to it",
                    unit.code
                ),
            ));
        }
        if !self.stores.allowed.contains(&unit.id) {
            return Err((
                "store_outside_unit",
                format!(
                    "store {} is not under {scope}; import it with --unit {} or a unit above it",
                    unit.code, unit.code
                ),
            ));
        }
        Ok(unit.id)
    }
}

/// A 64-bit digest of (store, member number): SipHash with fixed keys, so it is the same in
/// every run and spread evenly whatever the numbers look like.
fn member_digest(unit_id: i64, member_no: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    unit_id.hash(&mut h);
    member_no.hash(&mut h);
    h.finish()
}

fn header_of(columns: &[Column], field: Field) -> String {
    columns
        .iter()
        .find(|c| c.field == Some(field))
        .map(|c| c.header.clone())
        .unwrap_or_else(|| field.label_zh().to_string())
}

/// Validates an identity number cell. A number cell cannot hold 18 digits: Excel keeps 15
/// significant digits and silently zeroes the rest, so such a value is refused, not guessed.
fn check_id(cell: &Cell) -> Result<String, (&'static str, String)> {
    let raw = clip(&cell.text());
    let lost = |raw: &str| {
        (
            "id_number_lost_digits",
            format!(
                "ID number {raw} was stored as a number, and Excel keeps only 15 digits; format the column as Text and type the number again"
            ),
        )
    };
    if cell.is_number() {
        let digits = raw.chars().filter(char::is_ascii_digit).count();
        if digits >= 16 || raw.contains(['e', 'E']) {
            return Err(lost(&raw));
        }
    }
    let id: String = raw
        .chars()
        .map(crate::text::fold_width)
        .filter(|c| !c.is_whitespace() && !crate::text::is_invisible(*c))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if id.contains("E+") {
        return Err(lost(&raw));
    }
    let problem = match id_number::validate(&id) {
        Ok(()) => return Ok(id),
        Err(p) => p,
    };
    let id = clip(&id);
    let message = match problem {
        IdProblem::OldFifteenDigit => {
            format!("{id} is an old 15-digit ID number; enter the 18-digit number")
        }
        IdProblem::Shape => {
            format!("'{id}' is not an 18-character ID number (17 digits and a digit or X)")
        }
        IdProblem::BirthDate => {
            format!("ID number {id} has no valid birth date in it; check the digits")
        }
        IdProblem::Checksum => {
            format!("ID number {id} fails its check digit; a digit was probably mistyped")
        }
    };
    Err(("id_number_invalid", message))
}
