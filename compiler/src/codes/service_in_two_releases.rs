//! E0506: a service in more than one release.

use conv_lang::Code;

pub static SERVICE_IN_TWO_RELEASES: Code = Code {
    id: "E0506",
    name: "service-in-two-releases",
    explanation: r#"## E0506: a service in more than one release

A release rolls its services back together; a service in two releases would be rolled
back by one and forward by the other.

Fix: keep each service in one release."#,
};
