//! One module per subcommand; each returns the process exit status.

pub mod check;
pub mod eval;
pub mod events;
pub mod explain;
pub mod fmt;
pub mod graph;
pub mod graph_view;
pub mod init;
pub mod journal;
pub mod operations;
pub mod runtime;
pub mod status_view;

/// Exit status: success, or no errors.
pub const OK: u8 = 0;
/// Exit status: the input has errors (or, for `fmt --check`, is not formatted).
pub const FOUND: u8 = 1;
/// Exit status: usage or I/O error.
pub const FAILED: u8 = 2;
/// Exit status: `apply --no-wait` stopped before a stage whose requirement does not hold.
pub const WAITING: u8 = 3;
/// Exit status: there is work (`plan --detailed-exitcode`) or drift (`drift`). Never an error,
/// so that a script can tell "changes" from "something went wrong".
pub const CHANGES: u8 = 4;
