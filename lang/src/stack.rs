//! A backstop for the recursive walks over syntax trees and values.
//!
//! Their depth is limited (E0107 in the parser, E0406 in the checker), so each walk recurses
//! a bounded number of levels; but how much stack a level takes depends on the build (an
//! unoptimised one takes several times more) and the thread (a spawned thread has 2 MiB by
//! default). Each walk's recursive step runs through [`grow`], which moves onto a fresh
//! stack segment when little is left, so no limit has to be tuned to a frame size.

/// When less than this is left, a new segment is allocated.
const RED_ZONE: usize = 128 * 1024;

/// The size of each new segment.
const SEGMENT: usize = 2 * 1024 * 1024;

/// Runs `f`, on a new stack segment if the current one is nearly used up.
#[inline]
pub fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
