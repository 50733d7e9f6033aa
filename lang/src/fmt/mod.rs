//! The canonical formatter: one layout for every program, no options.
//!
//! It prints the syntax tree and weaves the comments back in by position: a comment on a
//! line of its own stays above the next node, a comment after code on the same line stays
//! there. Nodes that fit within `WIDTH` columns are printed on one line unless a comment
//! sits inside them. Blank lines between entries are kept, at most one.

mod exprs;
mod items;

use crate::lexer::Comment;
use crate::parser::Parsed;

/// The widest line the formatter aims for.
pub const WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Formats a file that parsed without errors. (With errors, callers must not format.)
pub fn format(src: &str, parsed: &Parsed) -> String {
    let ink = Ink::new(src);
    let newlines = src.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect();
    let mut printer = Printer {
        src,
        comments: &parsed.comments,
        next_comment: 0,
        out: String::new(),
        indent: 0,
        last_end: 0,
        ink,
        newlines,
    };
    printer.file(&parsed.file);
    printer.out
}

pub(crate) struct Printer<'a> {
    src: &'a str,
    comments: &'a [Comment],
    next_comment: usize,
    out: String,
    indent: usize,
    /// The source offset of the last thing printed, to find blank lines and trailing comments.
    last_end: usize,
    ink: Ink,
    /// Where the source's newlines are, so that "is there a line break between two offsets"
    /// is a binary search, not a scan of a line that may be megabytes long.
    newlines: Vec<usize>,
}

/// Counts of the characters in the source that any one-line rendering of it must print
/// (everything but whitespace and commas), by blocks of 64 bytes. With them, a node whose
/// source holds more than `WIDTH` such characters is known not to fit on one line without
/// rendering it: rendering every level of a deeply nested value would cost its size once
/// per level.
struct Ink {
    blocks: Vec<u32>,
}

impl Ink {
    const BLOCK: usize = 64;

    fn new(src: &str) -> Ink {
        let mut blocks = Vec::with_capacity(src.len() / Self::BLOCK + 2);
        let mut total = 0u32;
        for chunk in src.as_bytes().chunks(Self::BLOCK) {
            blocks.push(total);
            total += chunk.iter().filter(|&&b| inked(b)).count() as u32;
        }
        blocks.push(total);
        Ink { blocks }
    }

    /// Inked characters in `src[..at]`.
    fn before(&self, src: &str, at: usize) -> u32 {
        let at = at.min(src.len());
        let block = at / Self::BLOCK;
        let start = block * Self::BLOCK;
        self.blocks[block] + src.as_bytes()[start..at].iter().filter(|&&b| inked(b)).count() as u32
    }

    fn within(&self, src: &str, start: usize, end: usize) -> usize {
        self.before(src, end).saturating_sub(self.before(src, start)) as usize
    }
}

/// The first byte of a character that is neither whitespace nor a comma.
fn inked(b: u8) -> bool {
    !b.is_ascii_whitespace() && b != b',' && (b & 0xC0) != 0x80
}

impl Printer<'_> {
    /// Whether the source has a line break in `start..end`.
    fn breaks_between(&self, start: usize, end: usize) -> bool {
        let first = self.newlines.partition_point(|&n| n < start);
        self.newlines.get(first).is_some_and(|&n| n < end)
    }

    fn column(&self) -> usize {
        let line_start = self.out.rfind('\n').map(|i| i + 1).unwrap_or(0);
        self.out[line_start..].chars().count()
    }

    fn fits(&self, flat: &str) -> bool {
        // A character is at most 4 bytes: past 4 * WIDTH bytes it cannot fit, and scanning a
        // huge flat rendering for every enclosing node would be quadratic.
        flat.len() <= 4 * WIDTH && !flat.contains('\n') && self.column() + flat.chars().count() <= WIDTH
    }

    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
    }

    fn write_indent(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
    }

    fn blank_line_between(&self, from: usize, to: usize) -> bool {
        from < to && self.src[from..to].chars().filter(|c| *c == '\n').count() >= 2
    }

    fn pending_comment(&self) -> Option<&Comment> {
        self.comments.get(self.next_comment)
    }

    /// True if a comment not yet printed starts inside `start..end`.
    fn comment_within(&self, start: usize, end: usize) -> bool {
        self.comments[self.next_comment..].iter().take_while(|c| c.span.start < end).any(|c| c.span.start >= start)
    }

    /// Starts a new line for a node at `pos`: prints the comments above it, keeps one blank
    /// line where the source had one (or where `force_blank` asks), then indents.
    fn line_start(&mut self, pos: usize, first_in_block: bool, force_blank: bool) {
        let mut first = first_in_block;
        let mut want_blank = force_blank;
        loop {
            let comment = self.pending_comment().filter(|c| c.span.start < pos).cloned();
            let next = comment.as_ref().map(|c| c.span.start).unwrap_or(pos);
            if !first && (want_blank || self.blank_line_between(self.last_end, next)) {
                self.newline();
            }
            want_blank = false;
            first = false;
            self.write_indent();
            let Some(c) = comment else { return };
            self.out.push_str(self.src[c.span.start..c.span.end].trim_end());
            self.newline();
            self.last_end = c.span.end;
            self.next_comment += 1;
        }
    }

    /// After a node ends at `end`: a comment that follows on the same source line stays there.
    fn trailing_comment(&mut self, end: usize) {
        self.last_end = self.last_end.max(end);
        if let Some(c) = self.pending_comment().cloned()
            && c.span.start >= end
            && !self.breaks_between(end, c.span.start)
        {
            self.out.push(' ');
            self.out.push_str(self.src[c.span.start..c.span.end].trim_end());
            self.last_end = c.span.end;
            self.next_comment += 1;
        }
    }

    /// Prints the comments left before `end` (the closing bracket of a block), one per line.
    fn comments_before(&mut self, end: usize) {
        while let Some(c) = self.pending_comment().cloned() {
            if c.span.start >= end {
                break;
            }
            if !self.out.is_empty() && self.blank_line_between(self.last_end, c.span.start) {
                self.newline();
            }
            self.write_indent();
            self.out.push_str(self.src[c.span.start..c.span.end].trim_end());
            self.newline();
            self.last_end = c.span.end;
            self.next_comment += 1;
        }
    }
}
