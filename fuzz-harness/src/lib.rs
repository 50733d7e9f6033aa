//! An in-process fuzz harness for conv's front half: mutated inputs go through the whole
//! check, both diagnostic renderers and the formatter (see `oracle`). The binary drives it;
//! `tests/regressions.rs` replays the inputs it once found.

pub mod corpus;
pub mod mutate;
pub mod oracle;
pub mod rng;

// The CLI's renderer, compiled in here as it is: the cli crate itself would bring in the
// runtime and its dependencies, which a fuzz build does not need.
#[path = "../../cli/src/render.rs"]
#[allow(dead_code)]
pub mod render;
