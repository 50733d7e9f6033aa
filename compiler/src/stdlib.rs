//! The standard library, written in .conv and embedded in the binary.

/// `(module path, file name shown in diagnostics, source)`, the prelude first.
pub static MODULES: &[(&str, &str, &str)] = &[
    ("std.prelude", "std/prelude.conv", include_str!("../../stdlib/std/prelude.conv")),
    ("std.gates", "std/gates.conv", include_str!("../../stdlib/std/gates.conv")),
    ("std.rollout", "std/rollout.conv", include_str!("../../stdlib/std/rollout.conv")),
];

pub const PRELUDE: &str = "std.prelude";
