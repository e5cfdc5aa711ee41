//! Reports of the benchmark (`wolfip-bench`), for the `bench` launcher:
//! reading its JSON lines ([`json`]), a Markdown table of them
//! ([`table`]) and an SVG bar chart ([`svg`]).
//!
//! The benchmark prints one JSON object per measurement and line; this is
//! the only place that renders them.

pub mod json;
pub mod svg;
pub mod table;

pub use json::{parse_line, Row};

/// The implementations the benchmark knows, in the order of the table's
/// columns and of the chart's bars. Others (should a scenario add one)
/// follow in order of first appearance.
pub const IMPLS: [&str; 4] = ["wolfip", "smoltcp", "linux", "tap-limit"];

/// Every implementation present in `rows`: the known ones in the order of
/// [`IMPLS`], then any other in order of first appearance.
pub fn impls_present(rows: &[Row]) -> Vec<&str> {
    let mut out: Vec<&str> = IMPLS
        .iter()
        .copied()
        .filter(|i| rows.iter().any(|r| r.imp == *i))
        .collect();
    for r in rows {
        if !out.contains(&r.imp.as_str()) {
            out.push(&r.imp);
        }
    }
    out
}

/// The measurements of one (scenario, metric) pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Group<'a> {
    /// e.g. `bulk-sim`.
    pub scenario: &'a str,
    /// e.g. `throughput`.
    pub metric: &'a str,
    /// The unit of the pair's first row, e.g. `Mbit/s`.
    pub unit: &'a str,
    /// (implementation, value) in the order of [`impls_present`]; an
    /// implementation without a row for this pair is left out, one whose
    /// value is `null` has `None`.
    pub values: Vec<(&'a str, Option<f64>)>,
}

impl Group<'_> {
    /// The value of implementation `imp`, if it has a row and a value.
    pub fn value(&self, imp: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(i, _)| *i == imp)
            .and_then(|(_, v)| *v)
    }

    /// Whether implementation `imp` has a row (with a value or `null`).
    pub fn has(&self, imp: &str) -> bool {
        self.values.iter().any(|(i, _)| *i == imp)
    }
}

/// One [`Group`] per (scenario, metric) pair in order of first appearance.
/// Should an implementation have several rows for one pair, the first
/// counts.
pub fn groups(rows: &[Row]) -> Vec<Group<'_>> {
    let impls = impls_present(rows);
    let mut out: Vec<Group<'_>> = Vec::new();
    for r in rows {
        if !out
            .iter()
            .any(|g| g.scenario == r.scenario && g.metric == r.metric)
        {
            out.push(Group {
                scenario: &r.scenario,
                metric: &r.metric,
                unit: &r.unit,
                values: Vec::new(),
            });
        }
    }
    for g in &mut out {
        for imp in &impls {
            let first = rows
                .iter()
                .find(|r| r.scenario == g.scenario && r.metric == g.metric && r.imp == *imp);
            if let Some(r) = first {
                g.values.push((imp, r.value));
            }
        }
    }
    out
}

/// A number for people: integers up to 999 as they are; from 1,000 on
/// rounded to an integer with thousands separators; below that three
/// significant digits (`21.1`, `2.80`, `0.134`).
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if a >= 999.5 {
        let digits = format!("{:.0}", a);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        return format!("{sign}{out}");
    }
    if a == a.trunc() {
        return format!("{v:.0}");
    }
    // Three significant digits: as many decimals as that takes.
    let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A row for the tests of this module and its children.
#[cfg(test)]
pub(crate) fn test_row(
    scenario: &str,
    imp: &str,
    metric: &str,
    value: Option<f64>,
    unit: &str,
) -> Row {
    Row {
        scenario: scenario.into(),
        imp: imp.into(),
        metric: metric.into(),
        value,
        unit: unit.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_row as row;

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_num(4836.4), "4,836");
        assert_eq!(fmt_num(213_424.0), "213,424");
        assert_eq!(fmt_num(1_000_000.0), "1,000,000");
        assert_eq!(fmt_num(999.7), "1,000");
        assert_eq!(fmt_num(815.2), "815");
        assert_eq!(fmt_num(21.13), "21.1");
        assert_eq!(fmt_num(2.8), "2.80");
        assert_eq!(fmt_num(0.1342), "0.134");
        assert_eq!(fmt_num(0.000_123_4), "0.000123");
        assert_eq!(fmt_num(32.0), "32");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(-1234.0), "-1,234");
        assert_eq!(fmt_num(f64::NAN), "n/a");
    }

    #[test]
    fn groups_keep_the_order_of_appearance() {
        let rows = [
            row("b", "smoltcp", "m", Some(1.0), "u"),
            row("a", "x-other", "m", Some(2.0), "u"),
            row("b", "wolfip", "m", None, "u"),
            row("b", "wolfip", "m", Some(9.0), "u"),
        ];
        assert_eq!(impls_present(&rows), ["wolfip", "smoltcp", "x-other"]);
        let g = groups(&rows);
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].scenario, g[1].scenario), ("b", "a"));
        assert_eq!(g[0].values, [("wolfip", None), ("smoltcp", Some(1.0))]);
        assert!(g[0].has("wolfip") && !g[0].has("linux"));
        assert_eq!(g[1].value("x-other"), Some(2.0));
    }
}
