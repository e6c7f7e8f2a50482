//! kubectl's table layout: upper-case headers, columns padded to their
//! widest cell and separated by three spaces, `<none>` for empty cells.

use std::io::Write;

use crate::exit::CliError;

/// Writes `rows` under `headers`, kubectl style.
pub fn write(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| -> Result<(), CliError> {
        let cells: Vec<&str> = cells.collect();
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            text.push_str(cell);
            if i + 1 < cells.len() {
                let pad = widths[i] - cell.chars().count() + 3;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", text.trim_end())?;
        Ok(())
    };
    line(&mut headers.iter().copied())?;
    for row in rows {
        line(&mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

/// `<none>` for an empty cell.
pub fn or_none(text: String) -> String {
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_padded_by_three_spaces() {
        let mut out = Vec::new();
        super::write(
            &mut out,
            &["NAME", "TYPE"],
            &[vec!["frontend".into(), "NodePort".into()]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME       TYPE\nfrontend   NodePort\n"
        );
    }
}
