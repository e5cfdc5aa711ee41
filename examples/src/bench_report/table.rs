//! The launcher's table: Markdown, so that it can be pasted into
//! `docs/performance.md`, with its columns padded so that it also reads
//! well in a terminal.

use super::{fmt_num, groups, impls_present, Group, Row};

/// The implementations wolfip is compared with, each in a ratio column
/// `wolfip/<impl>`: smoltcp always, the others when the rows have a value
/// of theirs.
const COMPARED: [&str; 3] = ["smoltcp", "linux", "tap-limit"];

/// `|` would end a cell: escape it.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The cell of one implementation's value: empty when it has no row for
/// the pair, `n/a` when its value is `null`.
fn value_cell(g: &Group<'_>, imp: &str) -> String {
    match g.values.iter().find(|(i, _)| *i == imp) {
        None => String::new(),
        Some((_, None)) => "n/a".to_string(),
        Some((_, Some(v))) => fmt_num(*v),
    }
}

/// wolfip's value over `other`'s, empty unless both have a value and
/// `other`'s is not zero.
fn ratio_cell(g: &Group<'_>, other: &str) -> String {
    match (g.value("wolfip"), g.value(other)) {
        (Some(w), Some(o)) if o != 0.0 => fmt_num(w / o),
        _ => String::new(),
    }
}

/// One row per (scenario, metric) in order of first appearance; a column
/// per implementation present (an empty cell where one has no figure);
/// then wolfip/smoltcp, and wolfip/linux and wolfip/tap-limit when some
/// row has a Linux or TAP-limit value.
pub fn markdown(rows: &[Row]) -> String {
    let impls = impls_present(rows);
    let groups = groups(rows);
    let ratios: Vec<&str> = COMPARED
        .iter()
        .copied()
        .filter(|o| *o == "smoltcp" || groups.iter().any(|g| g.value(o).is_some()))
        .collect();
    let mut header: Vec<String> = ["scenario", "metric", "unit"].map(String::from).to_vec();
    header.extend(impls.iter().map(|i| cell(i)));
    header.extend(ratios.iter().map(|o| format!("wolfip/{o}")));
    let mut body: Vec<Vec<String>> = Vec::new();
    for g in &groups {
        let mut line = vec![cell(g.scenario), cell(g.metric), cell(g.unit)];
        line.extend(impls.iter().map(|i| value_cell(g, i)));
        line.extend(ratios.iter().map(|o| ratio_cell(g, o)));
        body.push(line);
    }
    let width = |c: usize| {
        body.iter()
            .map(|l| l[c].chars().count())
            .chain([header[c].chars().count(), 3])
            .max()
            .unwrap_or(3)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    // The first three columns are text, the others numbers.
    let numeric = |c: usize| c >= 3;
    let mut out = String::new();
    let mut push_line = |cells: &[String]| {
        for (c, s) in cells.iter().enumerate() {
            let w = widths[c];
            if numeric(c) {
                out.push_str(&format!("| {s:>w$} "));
            } else {
                out.push_str(&format!("| {s:<w$} "));
            }
        }
        out.push_str("|\n");
    };
    push_line(&header);
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(c, w)| {
            if numeric(c) {
                format!("{}:", "-".repeat(w - 1))
            } else {
                "-".repeat(*w)
            }
        })
        .collect();
    push_line(&rule);
    for line in &body {
        push_line(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::bench_report::test_row as row;

    /// The cells of each line, trimmed.
    fn cells(t: &str) -> Vec<Vec<String>> {
        t.lines()
            .map(|l| {
                let l = l
                    .trim()
                    .strip_prefix('|')
                    .unwrap()
                    .strip_suffix('|')
                    .unwrap();
                l.split(" | ").map(|c| c.trim().to_string()).collect()
            })
            .collect()
    }

    #[test]
    fn wolfip_over_smoltcp() {
        let t = markdown(&[
            row("bulk-sim", "wolfip", "throughput", Some(300.0), "Mbit/s"),
            row("bulk-sim", "smoltcp", "throughput", Some(200.0), "Mbit/s"),
        ]);
        let c = cells(&t);
        assert_eq!(
            c[0],
            [
                "scenario",
                "metric",
                "unit",
                "wolfip",
                "smoltcp",
                "wolfip/smoltcp"
            ]
        );
        assert!(c[1].iter().all(|s| s.chars().all(|c| c == '-' || c == ':')));
        assert_eq!(
            c[2],
            ["bulk-sim", "throughput", "Mbit/s", "300", "200", "1.50"]
        );
        assert_eq!(c.len(), 3, "{t}");
        // Every line is as wide as the header.
        let w = t.lines().next().unwrap().len();
        assert!(t.lines().all(|l| l.len() == w), "{t}");
    }

    #[test]
    fn missing_cells_and_the_other_ratios() {
        let t = markdown(&[
            row("bulk-tap", "wolfip", "throughput", Some(900.0), "Mbit/s"),
            row("bulk-tap", "linux", "throughput", Some(3000.0), "Mbit/s"),
            row(
                "bulk-tap",
                "tap-limit",
                "throughput",
                Some(4500.0),
                "Mbit/s",
            ),
            row("mem", "smoltcp", "ram", Some(53_408.0), "B"),
            row("mem", "wolfip", "ram", Some(116_608.0), "B"),
            row("mem", "linux", "ram", None, "B"),
            row("odd", "wolfip", "x|y", Some(1.0), "u"),
            row("odd", "smoltcp", "x|y", Some(0.0), "u"),
        ]);
        let c = cells(&t);
        assert_eq!(
            c[0],
            [
                "scenario",
                "metric",
                "unit",
                "wolfip",
                "smoltcp",
                "linux",
                "tap-limit",
                "wolfip/smoltcp",
                "wolfip/linux",
                "wolfip/tap-limit"
            ]
        );
        assert_eq!(
            c[2],
            [
                "bulk-tap",
                "throughput",
                "Mbit/s",
                "900",
                "",
                "3,000",
                "4,500",
                "",
                "0.300",
                "0.200"
            ]
        );
        assert_eq!(
            c[3],
            ["mem", "ram", "B", "116,608", "53,408", "n/a", "", "2.18", "", ""]
        );
        // `|` escaped; no ratio over zero.
        assert_eq!(c[4][1], "x\\|y");
        assert_eq!(c[4][7], "");
    }

    #[test]
    fn no_linux_or_tap_columns_without_their_values() {
        let t = markdown(&[
            row("s", "wolfip", "m", Some(1.0), "u"),
            row("s", "linux", "m", None, "u"),
        ]);
        let c = cells(&t);
        assert_eq!(
            c[0],
            [
                "scenario",
                "metric",
                "unit",
                "wolfip",
                "linux",
                "wolfip/smoltcp"
            ]
        );
        assert_eq!(c[2], ["s", "m", "u", "1", "n/a", ""]);
        assert_eq!(cells(&markdown(&[])).len(), 2);
    }
}
