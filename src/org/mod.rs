//! The institution: its organisation tree (HQ -> regions -> stores, each keeping its own
//! books), its terms, the classes each store runs in a term, and the members of each store.

mod classes;
mod contact;
mod email;
mod members;
mod overview;
mod terms;
mod units;

pub use classes::{Class, add_class, find_class, list_classes};
pub use contact::{find_member_ref, set_member_contact};
pub use email::check_email;
pub use members::{
    Member, MemberFilter, MemberPage, list_members, mask_id_number, mask_phone, member_page,
};
pub use overview::{Overview, overview};
pub use terms::{Term, add_term, find_term, list_terms};
pub use units::{
    Unit, UnitKind, UnitNode, add_unit, archive_unit, find_unit, init, list_units, move_unit,
    refuse_control, rename_unit, subtree, subtree_ids, tree,
};
