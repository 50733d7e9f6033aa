//! E0502: environments that come after each other.

use conv_lang::Code;

pub static ENVIRONMENT_ORDER_CYCLE: Code = Code {
    id: "E0502",
    name: "environment-order-cycle",
    explanation: r#"## E0502: environments that come after each other

`after` orders environments. Environments that come after each other, directly or
through others, can never start. The whole cycle is shown.

Fix: remove one edge of the cycle."#,
};
