//! Measurements and how they are printed: one JSON object per line
//! (`--json`), or a table with the ratio wolfip/smoltcp per metric.

use std::fmt::Write as _;

/// One measured figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// The scenario, e.g. `bulk-sim`.
    pub scenario: &'static str,
    /// `wolfip`, `smoltcp`, `linux` or `tap-limit`.
    pub imp: &'static str,
    /// What was measured, e.g. `throughput`.
    pub metric: &'static str,
    pub value: f64,
    /// e.g. `Mbit/s`.
    pub unit: &'static str,
}

/// A JSON string literal (quotes, backslashes and control characters
/// escaped).
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number; JSON has no NaN or infinity, so those become `null`.
fn json_num(v: f64) -> String {
    if v.is_finite() {
        // Rust's `Display` for f64 never uses an exponent and always gives
        // a valid JSON number (`1`, `0.5`, `-3.25`).
        format!("{v}")
    } else {
        "null".to_string()
    }
}

impl Measurement {
    /// `{"scenario": ..., "impl": ..., "metric": ..., "value": ..., "unit": ...}`
    pub fn to_json(&self) -> String {
        format!(
            "{{\"scenario\": {}, \"impl\": {}, \"metric\": {}, \"value\": {}, \"unit\": {}}}",
            json_str(self.scenario),
            json_str(self.imp),
            json_str(self.metric),
            json_num(self.value),
            json_str(self.unit)
        )
    }
}

/// The implementations in the order of the table's columns.
const IMPLS: [&str; 4] = ["wolfip", "smoltcp", "linux", "tap-limit"];

/// A table: one row per (scenario, metric) in order of first appearance,
/// one column per implementation present, and wolfip/smoltcp.
pub fn table(ms: &[Measurement]) -> String {
    let cols: Vec<&str> = IMPLS
        .iter()
        .copied()
        .filter(|i| ms.iter().any(|m| m.imp == *i))
        .collect();
    let mut rows: Vec<(&str, &str, &str)> = Vec::new();
    for m in ms {
        if !rows.iter().any(|r| r.0 == m.scenario && r.1 == m.metric) {
            rows.push((m.scenario, m.metric, m.unit));
        }
    }
    let find = |scenario: &str, metric: &str, imp: &str| {
        ms.iter()
            .find(|m| m.scenario == scenario && m.metric == metric && m.imp == imp)
            .map(|m| m.value)
    };
    let mut out = String::new();
    let _ = write!(out, "{:<12} {:<30} {:<8}", "scenario", "metric", "unit");
    for c in &cols {
        let _ = write!(out, " {c:>12}");
    }
    let _ = writeln!(out, " {:>15}", "wolfip/smoltcp");
    for (scenario, metric, unit) in rows {
        let _ = write!(out, "{scenario:<12} {metric:<30} {unit:<8}");
        for c in &cols {
            match find(scenario, metric, c) {
                Some(v) => {
                    let _ = write!(out, " {v:>12.2}");
                }
                None => {
                    let _ = write!(out, " {:>12}", "-");
                }
            }
        }
        match (
            find(scenario, metric, "wolfip"),
            find(scenario, metric, "smoltcp"),
        ) {
            (Some(w), Some(s)) if s != 0.0 => {
                let _ = writeln!(out, " {:>15.3}", w / s);
            }
            _ => {
                let _ = writeln!(out, " {:>15}", "-");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_has_the_agreed_shape() {
        let m = Measurement {
            scenario: "bulk-sim",
            imp: "wolfip",
            metric: "throughput",
            value: 1234.5,
            unit: "Mbit/s",
        };
        assert_eq!(
            m.to_json(),
            r#"{"scenario": "bulk-sim", "impl": "wolfip", "metric": "throughput", "value": 1234.5, "unit": "Mbit/s"}"#
        );
        assert_eq!(json_str("a\"b\\c\u{1}"), r#""a\"b\\c\u0001""#);
        assert_eq!(json_num(f64::NAN), "null");
        assert_eq!(json_num(2.0), "2");
    }

    #[test]
    fn table_shows_the_ratio() {
        let m = |imp, value| Measurement {
            scenario: "bulk-sim",
            imp,
            metric: "throughput",
            value,
            unit: "Mbit/s",
        };
        let t = table(&[m("wolfip", 300.0), m("smoltcp", 200.0)]);
        assert!(t.contains("1.500"), "{t}");
        assert!(t.lines().count() == 2, "{t}");
    }
}
