//! The part of a source file a diagnostic shows, made safe to print.
//!
//! A renderer is handed the lines its labels touch, not the whole file: a diagnostic in a
//! 10 MB file (or on a 10 MB line) costs what its excerpt costs. Within those lines, long
//! runs far from any label are cut to `…`, and characters that a terminal would not show
//! as themselves are written as escapes: line separators other than `\n` (a lone `\r`,
//! U+2028, U+2029, U+0085, form feed, vertical tab) that would break the line numbering,
//! NUL and other control characters, zero-width characters, and the bidirectional controls
//! that reorder what follows them. Offsets of the file are mapped into the excerpt, always
//! onto a character boundary.

use crate::line_index::LineIndex;
use crate::span::Span;

/// Lines longer than this (in bytes) are cut around the labels.
const LONG_LINE: usize = 1024;

/// How much of a long line is kept on each side of a label's ends.
const CONTEXT: usize = 120;

#[derive(Debug)]
pub struct Excerpt {
    pub text: String,
    /// The 0-based line of the file the excerpt starts at.
    pub first_line: usize,
    /// Sorted by file offset: from each `file` offset on, offsets map to `shown`, plus the
    /// distance from `file` when `linear` (text copied as it is).
    marks: Vec<Mark>,
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    file: usize,
    shown: usize,
    linear: bool,
}

impl Excerpt {
    /// The excerpt of `text` that shows every span in `spans` (in bytes of `text`; spans past
    /// the end or inside a character are allowed).
    pub fn new(text: &str, index: &LineIndex, spans: &[Span]) -> Excerpt {
        let clamp = |o: usize| floor_boundary(text, o.min(text.len()));
        let points: Vec<usize> = spans.iter().flat_map(|s| [clamp(s.start), clamp(s.end.max(s.start))]).collect();
        let lo = points.iter().copied().min().unwrap_or(0);
        let hi = points.iter().copied().max().unwrap_or(0);
        let first_line = index.line_of(lo);
        let start = index.line_start(first_line);
        let end = text[hi..].find('\n').map_or(text.len(), |i| hi + i);
        // The lines the labels touch, as merged runs of line numbers. A line between two
        // runs is never drawn: it is kept empty, and found through the index, not by reading
        // it, so that a report whose labels are far apart costs its lines, not the file
        // between them.
        let mut runs: Vec<(usize, usize)> =
            points.chunks(2).map(|p| (index.line_of(p[0]), index.line_of(p[1]))).collect();
        runs.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(runs.len());
        for (a, b) in runs {
            match merged.last_mut() {
                Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut out = Excerpt { text: String::new(), first_line, marks: Vec::new() };
        let mut next_line = first_line;
        for (a, b) in merged {
            if a > next_line {
                // Untouched lines `next_line..a`: empty, each offset in them shown at its start.
                out.mark(index.line_start(next_line), false);
                for _ in next_line..a {
                    out.text.push('\n');
                }
            }
            for line in a..=b {
                let line_start = index.line_start(line).max(start);
                let line_end = text[line_start..end].find('\n').map_or(end, |i| line_start + i);
                out.line(text, line_start, line_end, &points);
                if line_end >= end {
                    break;
                }
                out.mark(line_end, true);
                out.text.push('\n');
            }
            next_line = b + 1;
        }
        out.mark(end, false);
        out
    }

    /// Where file offset `offset` is in [`Excerpt::text`]: always a character boundary.
    pub fn map(&self, offset: usize) -> usize {
        let i = self.marks.partition_point(|m| m.file <= offset);
        let Some(m) = i.checked_sub(1).map(|i| self.marks[i]) else { return 0 };
        let shown = if m.linear { m.shown + (offset - m.file) } else { m.shown };
        floor_boundary(&self.text, shown.min(self.text.len()))
    }

    /// A span of the file as a range of the excerpt.
    pub fn map_span(&self, span: Span) -> std::ops::Range<usize> {
        let start = self.map(span.start);
        start..self.map(span.end.max(span.start)).max(start)
    }

    fn mark(&mut self, file: usize, linear: bool) {
        self.marks.push(Mark { file, shown: self.text.len(), linear });
    }

    /// Copies one line, cut around `points` when it is long.
    fn line(&mut self, text: &str, start: usize, end: usize, points: &[usize]) {
        if end - start <= LONG_LINE {
            self.copy(text, start, end);
            return;
        }
        let mut windows: Vec<(usize, usize)> = points
            .iter()
            .filter(|p| (start..=end).contains(*p))
            .map(|&p| {
                (
                    floor_boundary(text, p.saturating_sub(CONTEXT).max(start)),
                    floor_boundary(text, (p + CONTEXT).min(end)),
                )
            })
            .collect();
        windows.sort_unstable();
        let mut at = start;
        for (a, b) in windows {
            if b <= at {
                continue;
            }
            if a > at {
                self.mark(at, false);
                self.text.push('…');
            }
            self.copy(text, a.max(at), b);
            at = b;
        }
        if at < end {
            self.mark(at, false);
            self.text.push('…');
        }
    }

    /// Copies `text[start..end]`, escaping what should not be printed as it is.
    fn copy(&mut self, text: &str, start: usize, end: usize) {
        self.mark(start, true);
        let piece = &text[start..end];
        for (i, c) in piece.char_indices() {
            if let Some(escape) = escape(c, text[start + i + c.len_utf8()..].starts_with('\n')) {
                self.mark(start + i, false);
                self.text.push_str(&escape);
                self.mark(start + i + c.len_utf8(), true);
            } else {
                self.text.push(c);
            }
        }
    }
}

/// How `c` is shown, if not as itself. A `\r` before `\n` is dropped: the line ends anyway.
fn escape(c: char, before_newline: bool) -> Option<String> {
    match c {
        '\r' if before_newline => Some(String::new()),
        c if shown_escaped(c) => Some(format!("\\u{{{:x}}}", c as u32)),
        _ => None,
    }
}

/// Whether a report shows `c` as an escape (`\u{2028}`) rather than as itself: line
/// separators other than `\n`, NUL and the other control characters but the tab,
/// zero-width characters and the bidirectional controls.
pub fn shown_escaped(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        c if c.is_control() => true,
        '\u{2028}'
        | '\u{2029}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061c}'
        | '\u{feff}' => true,
        _ => false,
    }
}

/// A message, label, note or help with the characters of [`shown_escaped`] escaped as in
/// excerpts: messages quote names and strings of the source, which may hold any of them.
pub fn escape_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(shown_escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if shown_escaped(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt(text: &str, spans: &[Span]) -> Excerpt {
        Excerpt::new(text, &LineIndex::new(text), spans)
    }

    #[test]
    fn lines_between_labels_that_no_label_touches_are_left_empty() {
        let text = "a\nbb\ncc\nd\n";
        let e = excerpt(text, &[Span::new(0, 1), Span::new(8, 9)]);
        assert_eq!((e.text.as_str(), e.first_line), ("a\n\n\nd", 0));
        assert_eq!(e.map_span(Span::new(8, 9)), 4..5);
        // A label over several lines keeps every line it covers.
        let e = excerpt(text, &[Span::new(0, 7)]);
        assert_eq!(e.text, "a\nbb\ncc");
    }

    #[test]
    fn shows_only_the_lines_of_the_labels() {
        let e = excerpt("a\nbb\ncc\nd\n", &[Span::new(3, 4), Span::new(5, 6)]);
        assert_eq!((e.text.as_str(), e.first_line), ("bb\ncc", 1));
        assert_eq!(e.map_span(Span::new(5, 6)), 3..4);
    }

    #[test]
    fn escapes_separators_and_invisible_characters() {
        let text = "x\u{2028}y\rz\0\u{202e}w\r\n";
        let e = excerpt(text, &[Span::new(0, text.len())]);
        assert_eq!(e.text, "x\\u{2028}y\\u{d}z\\u{0}\\u{202e}w\n");
        let w = text.find('w').unwrap();
        assert_eq!(&e.text[e.map(w)..], "w\n");
        // Inside U+2028: the start of its escape.
        assert_eq!(e.map(2), 1);
    }

    #[test]
    fn escapes_messages_but_keeps_their_lines() {
        assert_eq!(escape_text("stage `x\u{202e}y`\n\tz\r\0"), "stage `x\\u{202e}y`\n\tz\\u{d}\\u{0}");
        assert!(matches!(escape_text("plain `é`"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn cuts_long_lines_around_the_labels() {
        let text = format!("let x = {}@{}\n", "a".repeat(10_000), "b".repeat(10_000));
        let at = text.find('@').unwrap();
        let e = excerpt(&text, &[Span::new(at, at + 1)]);
        assert!(e.text.len() < 300, "{}", e.text);
        assert_eq!(&e.text[e.map_span(Span::new(at, at + 1))], "@");
    }

    #[test]
    fn spans_past_the_end_or_inside_a_character_are_clamped() {
        let e = excerpt("é", &[Span::new(1, 99)]);
        assert_eq!(e.map_span(Span::new(1, 99)), 0..2);
    }
}
