//! Views of a rollout: the live terminal view during apply, `conv status --watch`, and the
//! web view of `conv serve`. All draw the same things: the engine's events folded into
//! where each stage stands, and the typed status.

pub mod feed;
pub mod lines;
pub mod live;
pub mod progress;
pub mod table;
pub mod watch;
