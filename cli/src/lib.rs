//! The parts of the `conv` command line that tests and other front ends reuse.

pub mod explain;
pub mod load;
pub mod render;
