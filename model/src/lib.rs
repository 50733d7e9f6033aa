//! What a checked .conv program means, as plain data: the boundary between the compiler and
//! everything that acts (graph, plan, runtime). No IO, no language details.

pub mod address;
pub mod program;

pub use address::{Address, EnvName, InstanceAddress, ReleaseName, ServiceName, SiteName};
pub use program::*;
