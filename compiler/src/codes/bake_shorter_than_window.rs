//! W0506: a bake time shorter than a gate's window.

use conv_lang::Code;

pub static BAKE_SHORTER_THAN_WINDOW: Code = Code {
    id: "W0506",
    name: "bake-shorter-than-window",
    explanation: r#"## W0506: a bake time shorter than a gate's window

A gate passes when its condition has held for its whole window. A stage that bakes for
less than the window moves on before the gate has seen a full window.

Fix: bake at least as long as the longest window, or shorten the window."#,
};
