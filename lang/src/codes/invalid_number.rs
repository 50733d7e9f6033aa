//! E0104: a number or unit literal that cannot be read.
//!
//! Emitted by the front end; the explanation below is what `conv explain E0104` prints.

use crate::diagnostic::Code;

pub static INVALID_NUMBER: Code = Code {
    id: "E0104",
    name: "invalid-number",
    explanation: r#"## E0104: invalid number or unit

A number is glued to a suffix conv does not know (`5min`, `2GB`), is too large,
or is a fraction that does not make whole units (`1.0001ms`).

The units are:

    durations    250ms 30s 5m 2h 1d        (Duration)
    sizes        512B 64Ki 512Mi 2Gi 1Ti   (ByteSize, powers of 1024)
    percentages  1% 99.9%                  (Percent)

Fix: use one of those suffixes with no space between the number and the unit,
such as `5m` for five minutes or `2Gi` for two gibibytes."#,
};
