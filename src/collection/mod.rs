//! Collecting through the channels: a QR-code order at WeChat Pay or Alipay for a bill, in the
//! plan's designated account; polling and settling paid orders into payments exactly once; and
//! refunds through the channel.
//!
//! Safety rests on three rules. An order is written to the database *before* the channel is
//! asked to create it, so a crash never leaves an order FeeDesk does not know about; the next
//! [`sync_orders`] queries it. A paid order is recorded through the billing core under a key
//! derived from its order number, so settling it twice (a duplicated reply, two syncs, a crash
//! between the payment and the order update) records one payment. And nothing a channel says
//! is believed before its signature, merchant, order number and amount are checked.

mod collect;
mod export;
mod orders;
mod qr;
mod refund;
mod sync;

pub use collect::{CollectOrder, collect};
pub use export::{QrExport, export_class_qr};
pub use orders::{ChannelOrder, list_orders, mark_paid_by_statement, statement_order};
pub use qr::{qr_png, qr_svg};
pub use refund::refund_via_channel;
pub use sync::{SyncReport, check_order_now, close_order, sync_orders};
pub(crate) use sync::{confirm_paid, sync_all};

/// How long a QR code stays payable.
pub const ORDER_MINUTES: i64 = 120;
