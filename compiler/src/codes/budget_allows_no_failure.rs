//! W0502: a failure budget that rounds down to zero sites.

use conv_lang::Code;

pub static BUDGET_ALLOWS_NO_FAILURE: Code = Code {
    id: "W0502",
    name: "budget-allows-no-failure",
    explanation: r#"## W0502: a failure budget that rounds down to zero sites

`max_failures` is a share of the stage's sites, rounded down. On few sites, a small share
allows no failure at all: `max_failures = 10%` of 2 sites is 0 sites.

Fix: raise the share, or write `0%` if no failure is allowed."#,
};
