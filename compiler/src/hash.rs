//! The compiler's hash maps: keyed by names and small ids, looked up millions of times on a
//! large program, so they use a fast hasher instead of the standard DoS-resistant one (their
//! keys come from the user's own program, not from an adversary).

pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
