//! Go's `text/tabwriter` as `kubectl describe` sets it up (minimum width 0,
//! padding 2, padded with spaces): tab-terminated cells are aligned in
//! column blocks, a block being the run of consecutive lines that have a
//! cell in that column; the last cell of a line is not aligned.
//!
//! Reproducing its block rule is what makes the describe layouts match
//! kubectl's byte for byte (a line without a tab, such as `Subsets:`,
//! starts a new block).

/// The padding kubectl's describers use.
pub const PADDING: usize = 2;

/// Aligns `text` as Go's tabwriter does.
///
/// ```
/// let t = svcroute_cli::tabwriter::align("Name:\tweb\nNamespace:\tshop\nSubsets:\n  Ports:\tx\n");
/// assert_eq!(t, "Name:       web\nNamespace:  shop\nSubsets:\n  Ports:  x\n");
/// ```
pub fn align(text: &str) -> String {
    let mut raw: Vec<&str> = text.split('\n').collect();
    let ends_with_newline = text.ends_with('\n');
    if ends_with_newline {
        raw.pop();
    }
    let lines: Vec<Vec<&str>> = raw.iter().map(|l| l.split('\t').collect()).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut widths = Vec::new();
    format(&lines, 0, lines.len(), &mut widths, &mut out);
    if !ends_with_newline && out.ends_with('\n') {
        out.pop();
    }
    out
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

fn format(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut w = 0;
        while this < line1 && column + 1 < lines[this].len() {
            w = w.max(width(lines[this][column]) + PADDING);
            this += 1;
        }
        widths.push(w);
        format(lines, line0, this, widths, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

fn write_lines(
    lines: &[Vec<&str>],
    line0: usize,
    line1: usize,
    widths: &[usize],
    out: &mut String,
) {
    for line in &lines[line0..line1] {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j < widths.len() {
                out.extend(std::iter::repeat_n(
                    ' ',
                    widths[j].saturating_sub(width(cell)),
                ));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn columns_align_within_blocks_only() {
        let text = "Port:\thttp\t80/TCP\nTargetPort:\t8000/TCP\nNodePort:\thttp\t30080/TCP\n";
        assert_eq!(
            align(text),
            "Port:        http  80/TCP\nTargetPort:  8000/TCP\nNodePort:    http  30080/TCP\n"
        );
    }

    #[test]
    fn a_line_without_tabs_ends_the_block() {
        let text = "Name:\tweb\nSubsets:\n  Addresses:\t10.0.0.1\n  NotReadyAddresses:\t<none>\n\nEvents:\t<none>\n";
        assert_eq!(
            align(text),
            "Name:  web\nSubsets:\n  Addresses:          10.0.0.1\n  NotReadyAddresses:  <none>\n\nEvents:  <none>\n"
        );
    }

    #[test]
    fn empty_first_cells_continue_a_block() {
        let text = "Labels:\tapp=web\n\ttier=front\nAnnotations:\t<none>\n";
        assert_eq!(
            align(text),
            "Labels:       app=web\n              tier=front\nAnnotations:  <none>\n"
        );
    }
}
