//! The compiler's diagnostic codes, one module each with its explanation.

mod bad_sites;
mod bake_shorter_than_window;
mod budget_allows_no_failure;
mod cannot_infer;
mod critical_without_gates;
mod declaration_cycle;
mod dependency_not_ordered;
mod division_by_zero;
mod duplicate_field;
mod duplicate_name;
mod duplicate_stage;
mod environment_order_cycle;
mod failure_budget_too_large;
mod field_out_of_range;
mod import_cycle;
mod integer_overflow;
mod invalid_nested_block;
mod invalid_operands;
mod literal_out_of_range;
mod missing_field;
mod not_callable;
mod not_interpolatable;
mod optional_used;
mod recursive_function;
mod release_without_stages;
mod service_dependency_cycle;
mod service_in_two_releases;
mod service_listed_twice;
mod stage_before_required_environment;
mod stage_fraction_decreases;
mod too_deep;
mod type_mismatch;
mod unknown_field;
mod unknown_import;
mod unknown_module;
mod unknown_name;
mod unknown_type;
mod value_out_of_range;
mod wrong_arguments;
mod wrong_type_arguments;

pub use bad_sites::BAD_SITES;
pub use bake_shorter_than_window::BAKE_SHORTER_THAN_WINDOW;
pub use budget_allows_no_failure::BUDGET_ALLOWS_NO_FAILURE;
pub use cannot_infer::CANNOT_INFER;
pub use critical_without_gates::CRITICAL_WITHOUT_GATES;
pub use declaration_cycle::DECLARATION_CYCLE;
pub use dependency_not_ordered::DEPENDENCY_NOT_ORDERED;
pub use division_by_zero::DIVISION_BY_ZERO;
pub use duplicate_field::DUPLICATE_FIELD;
pub use duplicate_name::DUPLICATE_NAME;
pub use duplicate_stage::DUPLICATE_STAGE;
pub use environment_order_cycle::ENVIRONMENT_ORDER_CYCLE;
pub use failure_budget_too_large::FAILURE_BUDGET_TOO_LARGE;
pub use field_out_of_range::FIELD_OUT_OF_RANGE;
pub use import_cycle::IMPORT_CYCLE;
pub use integer_overflow::INTEGER_OVERFLOW;
pub use invalid_nested_block::INVALID_NESTED_BLOCK;
pub use invalid_operands::INVALID_OPERANDS;
pub use literal_out_of_range::LITERAL_OUT_OF_RANGE;
pub use missing_field::MISSING_FIELD;
pub use not_callable::NOT_CALLABLE;
pub use not_interpolatable::NOT_INTERPOLATABLE;
pub use optional_used::OPTIONAL_USED;
pub use recursive_function::RECURSIVE_FUNCTION;
pub use release_without_stages::RELEASE_WITHOUT_STAGES;
pub use service_dependency_cycle::SERVICE_DEPENDENCY_CYCLE;
pub use service_in_two_releases::SERVICE_IN_TWO_RELEASES;
pub use service_listed_twice::SERVICE_LISTED_TWICE;
pub use stage_before_required_environment::STAGE_BEFORE_REQUIRED_ENVIRONMENT;
pub use stage_fraction_decreases::STAGE_FRACTION_DECREASES;
pub use too_deep::TOO_DEEP;
pub use type_mismatch::TYPE_MISMATCH;
pub use unknown_field::UNKNOWN_FIELD;
pub use unknown_import::UNKNOWN_IMPORT;
pub use unknown_module::UNKNOWN_MODULE;
pub use unknown_name::UNKNOWN_NAME;
pub use unknown_type::UNKNOWN_TYPE;
pub use value_out_of_range::VALUE_OUT_OF_RANGE;
pub use wrong_arguments::WRONG_ARGUMENTS;
pub use wrong_type_arguments::WRONG_TYPE_ARGUMENTS;

use conv_lang::Code;

/// Every code the compiler can emit.
pub static ALL: &[&Code] = &[
    &UNKNOWN_NAME,
    &DUPLICATE_NAME,
    &UNKNOWN_MODULE,
    &UNKNOWN_IMPORT,
    &IMPORT_CYCLE,
    &TYPE_MISMATCH,
    &INVALID_OPERANDS,
    &UNKNOWN_FIELD,
    &MISSING_FIELD,
    &DUPLICATE_FIELD,
    &LITERAL_OUT_OF_RANGE,
    &WRONG_ARGUMENTS,
    &NOT_CALLABLE,
    &CANNOT_INFER,
    &OPTIONAL_USED,
    &NOT_INTERPOLATABLE,
    &WRONG_TYPE_ARGUMENTS,
    &INVALID_NESTED_BLOCK,
    &UNKNOWN_TYPE,
    &RECURSIVE_FUNCTION,
    &DECLARATION_CYCLE,
    &DIVISION_BY_ZERO,
    &VALUE_OUT_OF_RANGE,
    &INTEGER_OVERFLOW,
    &TOO_DEEP,
    &SERVICE_DEPENDENCY_CYCLE,
    &ENVIRONMENT_ORDER_CYCLE,
    &STAGE_FRACTION_DECREASES,
    &STAGE_BEFORE_REQUIRED_ENVIRONMENT,
    &DEPENDENCY_NOT_ORDERED,
    &SERVICE_IN_TWO_RELEASES,
    &FIELD_OUT_OF_RANGE,
    &BAD_SITES,
    &DUPLICATE_STAGE,
    &SERVICE_LISTED_TWICE,
    &RELEASE_WITHOUT_STAGES,
    &FAILURE_BUDGET_TOO_LARGE,
    &CRITICAL_WITHOUT_GATES,
    &BUDGET_ALLOWS_NO_FAILURE,
    &BAKE_SHORTER_THAN_WINDOW,
];
