//! Comparing valid rows with what the store already holds: which members are new, which
//! changed (and how they looked before), which are unchanged, and which enrolments and classes
//! must be added. Re-importing the same file yields an empty plan.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::validate::Candidate;
use crate::{FeeDesk, Result};

/// A member as stored, for comparison.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub id: i64,
    pub member_no: String,
    pub name: String,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub guardian_email: Option<String>,
    pub id_number: Option<String>,
    pub enrolled_on: Option<String>,
    pub status: String,
    pub last_batch_id: Option<i64>,
    pub updated_at: String,
}

impl Stored {
    /// The state recorded before an update, enough to restore it.
    pub fn snapshot(&self) -> serde_json::Value {
        json!({
            "name": self.name, "guardian_name": self.guardian_name,
            "guardian_phone": self.guardian_phone, "guardian_email": self.guardian_email,
            "id_number": self.id_number,
            "enrolled_on": self.enrolled_on, "status": self.status,
            "last_batch_id": self.last_batch_id, "updated_at": self.updated_at,
        })
    }
}

/// The member fields an import writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub name: String,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub guardian_email: Option<String>,
    pub id_number: Option<String>,
    pub enrolled_on: Option<String>,
    pub status: String,
}

impl Fields {
    /// A new member's fields, taken from the row.
    fn new_member(c: Candidate) -> Fields {
        Fields {
            name: c.name,
            guardian_name: c.guardian_name,
            guardian_phone: c.guardian_phone,
            guardian_email: c.guardian_email,
            id_number: c.id_number,
            enrolled_on: c.enrolled_on.map(|d| d.to_string()),
            status: c.status.unwrap_or("active").to_string(),
        }
    }

    /// An existing member's fields after the row: empty optional cells keep what is stored,
    /// so a roster without an ID column never wipes ID numbers.
    fn merged(s: &Stored, c: &Candidate) -> Fields {
        Fields {
            name: c.name.clone(),
            guardian_name: c.guardian_name.clone().or_else(|| s.guardian_name.clone()),
            guardian_phone: c
                .guardian_phone
                .clone()
                .or_else(|| s.guardian_phone.clone()),
            guardian_email: c
                .guardian_email
                .clone()
                .or_else(|| s.guardian_email.clone()),
            id_number: c.id_number.clone().or_else(|| s.id_number.clone()),
            enrolled_on: c
                .enrolled_on
                .map(|d| d.to_string())
                .or_else(|| s.enrolled_on.clone()),
            status: c
                .status
                .map(str::to_string)
                .unwrap_or_else(|| s.status.clone()),
        }
    }

    fn of(s: &Stored) -> Fields {
        Fields {
            name: s.name.clone(),
            guardian_name: s.guardian_name.clone(),
            guardian_phone: s.guardian_phone.clone(),
            guardian_email: s.guardian_email.clone(),
            id_number: s.id_number.clone(),
            enrolled_on: s.enrolled_on.clone(),
            status: s.status.clone(),
        }
    }
}

/// A member the import creates.
#[derive(Debug, Clone)]
pub struct Create {
    pub unit_id: i64,
    pub member_no: String,
    pub fields: Fields,
}

/// A member the import changes.
#[derive(Debug, Clone)]
pub struct Update {
    pub member_id: i64,
    pub before: serde_json::Value,
    pub fields: Fields,
}

/// Who an enrolment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberRef {
    Existing(i64),
    /// Index into the chunk's [`Plan::creates`].
    New(usize),
}

/// What one chunk of valid rows would write.
#[derive(Debug, Default)]
pub struct Plan {
    pub creates: Vec<Create>,
    pub updates: Vec<Update>,
    /// (member, store id, class name) enrolments to add in the import's term.
    pub enrolments: Vec<(MemberRef, i64, String)>,
    /// (store id, class name) classes to create in the import's term, first seen in this chunk.
    pub new_classes: Vec<(i64, String)>,
    /// Members whose row changed nothing.
    pub unchanged: u64,
    /// Existing members whose only change is a new enrolment.
    pub enrolled_only: u64,
}

impl Plan {
    /// Existing members the chunk changes (fields or enrolments).
    pub fn updated(&self) -> u64 {
        self.updates.len() as u64 + self.enrolled_only
    }
}

/// The running totals over every chunk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub classes_created: u64,
    pub enrolments_added: u64,
}

impl Totals {
    /// Adds a chunk's plan.
    pub fn add(&mut self, plan: &Plan) {
        self.imported += plan.creates.len() as u64;
        self.updated += plan.updated();
        self.unchanged += plan.unchanged;
        self.classes_created += plan.new_classes.len() as u64;
        self.enrolments_added += plan.enrolments.len() as u64;
    }

    /// Whether the import changes anything at all.
    pub fn changes_anything(&self) -> bool {
        self.imported + self.updated + self.classes_created + self.enrolments_added > 0
    }
}

/// Plans chunk after chunk against what the stores held when the import started.
#[derive(Debug)]
pub struct Planner {
    /// Stored members by store, then member number.
    stored: HashMap<i64, HashMap<String, Stored>>,
    enrolled: HashSet<(i64, i64, String)>,
    /// Class names by store, in the import's term (new ones are added as they are planned).
    classes: HashMap<i64, HashSet<String>>,
}

impl Planner {
    /// Loads the members of `store_ids` and the enrolments of the term.
    pub async fn load(
        desk: &FeeDesk,
        store_ids: &[i64],
        term_id: Option<i64>,
        term_classes: &HashSet<(i64, String)>,
    ) -> Result<Planner> {
        let mut stored: HashMap<i64, HashMap<String, Stored>> = HashMap::new();
        for unit_id in store_ids {
            let rows: Vec<Stored> = sqlx::query_as(
                "SELECT id, member_no, name, guardian_name, guardian_phone, guardian_email, id_number,
                        enrolled_on, status, last_batch_id, updated_at
                 FROM members WHERE unit_id = ?",
            )
            .bind(unit_id)
            .fetch_all(desk.db().pool())
            .await?;
            stored
                .entry(*unit_id)
                .or_default()
                .extend(rows.into_iter().map(|s| (s.member_no.clone(), s)));
        }
        let enrolled: HashSet<(i64, i64, String)> = match term_id {
            Some(term_id) => sqlx::query_as(
                "SELECT e.member_id, c.unit_id, c.name FROM enrolments e JOIN classes c ON c.id = e.class_id
                 WHERE c.term_id = ?",
            )
            .bind(term_id)
            .fetch_all(desk.db().pool())
            .await?
            .into_iter()
            .collect(),
            None => HashSet::new(),
        };
        let mut classes: HashMap<i64, HashSet<String>> = HashMap::new();
        for (unit, name) in term_classes {
            classes.entry(*unit).or_default().insert(name.clone());
        }
        Ok(Planner {
            stored,
            enrolled,
            classes,
        })
    }

    /// Plans one chunk of valid rows. The validator guarantees each (store, member number)
    /// appears once in the file, so chunks never plan the same member twice.
    pub fn plan(&mut self, candidates: Vec<Candidate>) -> Plan {
        let mut plan = Plan::default();
        for c in candidates {
            let known = self.classes.entry(c.unit_id).or_default();
            for class in &c.classes {
                if !known.contains(class) {
                    known.insert(class.clone());
                    plan.new_classes.push((c.unit_id, class.clone()));
                }
            }
            match self
                .stored
                .get(&c.unit_id)
                .and_then(|m| m.get(&c.member_no))
            {
                None => {
                    let index = plan.creates.len();
                    let (unit_id, member_no) = (c.unit_id, c.member_no.clone());
                    let classes = c.classes.clone();
                    plan.creates.push(Create {
                        unit_id,
                        member_no,
                        fields: Fields::new_member(c),
                    });
                    for class in classes {
                        plan.enrolments
                            .push((MemberRef::New(index), unit_id, class));
                    }
                }
                Some(s) => {
                    let fields = Fields::merged(s, &c);
                    let changed = fields != Fields::of(s);
                    let mut enrolled_now = false;
                    for class in &c.classes {
                        if !self.enrolled.contains(&(s.id, c.unit_id, class.clone())) {
                            plan.enrolments.push((
                                MemberRef::Existing(s.id),
                                c.unit_id,
                                class.clone(),
                            ));
                            enrolled_now = true;
                        }
                    }
                    if changed {
                        plan.updates.push(Update {
                            member_id: s.id,
                            before: s.snapshot(),
                            fields,
                        });
                    } else if enrolled_now {
                        plan.enrolled_only += 1;
                    } else {
                        plan.unchanged += 1;
                    }
                }
            }
        }
        plan
    }
}
