//! Aligned tables for the terminal, laid out by comfy-table. Colors are added after layout,
//! cell by cell, so escape codes never count toward a column's width.

use comfy_table::{Table, presets};

/// Picks the color (an SGR code such as `"32"`) of a cell from its row, column and text.
pub type Colorer<'a> = &'a dyn Fn(usize, usize, &str) -> Option<&'static str>;

/// A table with a header, columns separated by two spaces, no borders, no trailing blanks.
pub fn render(header: &[&str], rows: &[Vec<String>], color: Colorer) -> String {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header(header.to_vec());
    for row in rows {
        // One line a row: a newline in a cell would break the column offsets below.
        table.add_row(row.iter().map(|c| c.replace('\n', " ")).collect::<Vec<_>>());
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let lines: Vec<String> = table.lines().map(|l| l.trim_end().to_string()).collect();
    let starts = column_starts(lines.first().map(String::as_str).unwrap_or_default(), header);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let painted = match i.checked_sub(1).and_then(|r| rows.get(r).map(|cells| (r, cells))) {
            Some((r, cells)) => paint_line(line, &starts, cells, &|c, text| color(r, c, text)),
            None => line.clone(),
        };
        out.push_str(&painted);
        out.push('\n');
    }
    out
}

/// Where each column starts in a header line (in chars).
fn column_starts(header_line: &str, header: &[&str]) -> Vec<usize> {
    let chars: Vec<char> = header_line.chars().collect();
    let mut starts = Vec::new();
    let mut from = 0;
    for name in header {
        let name: Vec<char> = name.chars().collect();
        let at = (from..chars.len()).find(|&i| chars[i..].starts_with(&name)).unwrap_or(from);
        starts.push(at);
        from = at + name.len();
    }
    starts
}

fn paint_line(
    line: &str,
    starts: &[usize],
    cells: &[String],
    color: &dyn Fn(usize, &str) -> Option<&'static str>,
) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut at = 0;
    for (c, cell) in cells.iter().enumerate() {
        let (Some(code), Some(&start)) = (color(c, cell), starts.get(c)) else { continue };
        let len = cell.chars().count();
        if start < at || start + len > chars.len() || cell.is_empty() {
            continue;
        }
        out.extend(&chars[at..start]);
        out.push_str(&format!("\u{1b}[{code}m"));
        out.extend(&chars[start..start + len]);
        out.push_str("\u{1b}[0m");
        at = start + len;
    }
    out.extend(&chars[at.min(chars.len())..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_colors_do_not_move_them() {
        let rows = vec![
            vec!["staging".to_string(), "converged".into(), "x".into()],
            vec!["production-eu".to_string(), "failed".into(), "y".into()],
        ];
        let plain = render(&["ENV", "STATE", "WHY"], &rows, &|_, _, _| None);
        let lines: Vec<&str> = plain.lines().collect();
        let at: Vec<usize> = lines.iter().map(|l| l.find("x").or(l.find("y")).or(l.find("WHY")).unwrap()).collect();
        assert!(at.iter().all(|&a| a == at[0]), "{plain}");
        let colored = render(&["ENV", "STATE", "WHY"], &rows, &|_, c, _| (c == 1).then_some("32"));
        let stripped = colored.replace("\u{1b}[32m", "").replace("\u{1b}[0m", "");
        assert_eq!(stripped, plain);
        assert!(colored.contains("\u{1b}[32mfailed\u{1b}[0m"), "{colored}");
    }
}
