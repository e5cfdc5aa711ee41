//! Measurements and how they are printed: one JSON object per line.
//!
//! The benchmark renders nothing itself: its launcher
//! (`cargo run --release -p wolfip-examples --bin bench`, module
//! `wolfip_examples::bench_report`) reads these lines and makes the table
//! with the ratios and the chart.

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
    /// The figure; NaN or infinity print as `null`.
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
}
