//! E0507: a schema field with a value outside its range.

use conv_lang::Code;

pub static FIELD_OUT_OF_RANGE: Code = Code {
    id: "E0507",
    name: "field-out-of-range",
    explanation: r#"## E0507: a schema field with a value outside its range

A field of an environment, service, stage or gate has a value outside the range the
runtime can act on: replicas, instances_per_site or max_parallel below 1; a stage
fraction of 0%; a port outside 1..65535; a gate window of 0s; a latency quantile of 0%.

Fix: use a value in range; the message gives the range."#,
};
