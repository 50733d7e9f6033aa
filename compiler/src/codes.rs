pub static ALL: &[&conv_lang::Code] = &[];
