//! The benchmark's lines: one flat JSON object per measurement,
//! `{"scenario": ..., "impl": ..., "metric": ..., "value": ..., "unit": ...}`,
//! whose values are strings, numbers or `null`.

/// One measurement as the benchmark prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The scenario, e.g. `bulk-sim`.
    pub scenario: String,
    /// The implementation: `wolfip`, `smoltcp`, `linux` or `tap-limit`.
    pub imp: String,
    /// What was measured, e.g. `throughput`.
    pub metric: String,
    /// The figure; `None` for `null` (not measured).
    pub value: Option<f64>,
    /// e.g. `Mbit/s`; empty when the line has none.
    pub unit: String,
}

/// A scalar JSON value.
enum Value {
    Str(String),
    Num(f64),
    /// `null`, `true` or `false`.
    Other,
}

/// Reads JSON text from the front of a string.
struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    /// Skips white space.
    fn ws(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
    }

    /// Takes `c` (after white space) if it comes next.
    fn eat(&mut self, c: char) -> bool {
        self.ws();
        match self.rest.strip_prefix(c) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    /// Four hexadecimal digits of a `\u` escape.
    fn hex4(&mut self) -> Option<u32> {
        let h = self.rest.get(..4)?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.rest = &self.rest[4..];
        u32::from_str_radix(h, 16).ok()
    }

    /// A string literal, escapes resolved (`\uD83D\uDE00` pairs included).
    fn string(&mut self) -> Option<String> {
        self.ws();
        self.rest = self.rest.strip_prefix('"')?;
        let mut out = String::new();
        loop {
            let c = self.rest.chars().next()?;
            self.rest = &self.rest[c.len_utf8()..];
            match c {
                '"' => return Some(out),
                '\\' => {
                    let e = self.rest.chars().next()?;
                    self.rest = &self.rest[e.len_utf8()..];
                    out.push(match e {
                        '"' => '"',
                        '\\' => '\\',
                        '/' => '/',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi) {
                                self.rest = self.rest.strip_prefix("\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                            } else {
                                // A lone low surrogate is no character.
                                char::from_u32(hi)?
                            }
                        }
                        _ => return None,
                    });
                }
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
    }

    /// A string, a number, `null`, `true` or `false`.
    fn value(&mut self) -> Option<Value> {
        self.ws();
        if self.rest.starts_with('"') {
            return self.string().map(Value::Str);
        }
        for word in ["null", "true", "false"] {
            if let Some(r) = self.rest.strip_prefix(word) {
                self.rest = r;
                return Some(Value::Other);
            }
        }
        let end = self
            .rest
            .find(|c: char| !matches!(c, '0'..='9' | '-' | '+' | '.' | 'e' | 'E'))
            .unwrap_or(self.rest.len());
        let token = &self.rest[..end];
        // Rust would also take `+1`, `.5` or `1.`; JSON does not.
        let first_ok = token.starts_with(|c: char| c == '-' || c.is_ascii_digit());
        let digits_ok = !token.ends_with('.') && !token.contains(".e") && !token.contains(".E");
        if !first_ok || !digits_ok || token.starts_with("-.") {
            return None;
        }
        let v: f64 = token.parse().ok()?;
        self.rest = &self.rest[end..];
        Some(Value::Num(v))
    }
}

/// Parses one line of the benchmark's output; `None` if it is not a flat
/// JSON object with at least `scenario`, `impl` and `metric` as strings.
/// `value` is `None` when `null` or missing; `unit` is empty when missing;
/// other keys are ignored.
pub fn parse_line(line: &str) -> Option<Row> {
    let mut c = Cursor { rest: line };
    if !c.eat('{') {
        return None;
    }
    let (mut scenario, mut imp, mut metric) = (None, None, None);
    let mut row = Row {
        scenario: String::new(),
        imp: String::new(),
        metric: String::new(),
        value: None,
        unit: String::new(),
    };
    if !c.eat('}') {
        loop {
            let key = c.string()?;
            if !c.eat(':') {
                return None;
            }
            match (key.as_str(), c.value()?) {
                ("scenario", Value::Str(s)) => scenario = Some(s),
                ("impl", Value::Str(s)) => imp = Some(s),
                ("metric", Value::Str(s)) => metric = Some(s),
                ("unit", Value::Str(s)) => row.unit = s,
                ("value", Value::Num(v)) => row.value = Some(v),
                ("value", Value::Other) => row.value = None,
                ("scenario" | "impl" | "metric" | "unit" | "value", _) => return None,
                _ => {}
            }
            if c.eat('}') {
                break;
            }
            if !c.eat(',') {
                return None;
            }
        }
    }
    c.ws();
    if !c.rest.is_empty() {
        return None;
    }
    row.scenario = scenario?;
    row.imp = imp?;
    row.metric = metric?;
    Some(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_benchmarks_lines() {
        let r = parse_line(
            r#"{"scenario": "bulk-sim", "impl": "wolfip", "metric": "throughput", "value": 1234.5, "unit": "Mbit/s"}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            Row {
                scenario: "bulk-sim".into(),
                imp: "wolfip".into(),
                metric: "throughput".into(),
                value: Some(1234.5),
                unit: "Mbit/s".into(),
            }
        );
    }

    #[test]
    fn resolves_escapes() {
        let r = parse_line(
            r#"{"scenario":"a\"b\\c\/d","impl":"x\u0041\n","metric":"\ud83d\ude00 \u00e9","value":1,"unit":"µs\t"}"#,
        )
        .unwrap();
        assert_eq!(r.scenario, "a\"b\\c/d");
        assert_eq!(r.imp, "xA\n");
        assert_eq!(r.metric, "\u{1F600} \u{e9}");
        assert_eq!(r.unit, "µs\t");
        // A lone surrogate, an unknown escape, a raw control character.
        for bad in [r#""\ud83d""#, r#""\q""#, "\"a\u{1}\"", r#""\u12""#] {
            let line = format!(r#"{{"scenario": {bad}, "impl": "i", "metric": "m"}}"#);
            assert!(parse_line(&line).is_none(), "{line}");
        }
    }

    #[test]
    fn reads_null_and_numbers() {
        let line = |v: &str| {
            parse_line(&format!(
                r#"{{"scenario": "s", "impl": "i", "metric": "m", "value": {v}, "unit": "u"}}"#
            ))
        };
        assert_eq!(line("null").unwrap().value, None);
        assert_eq!(line("0").unwrap().value, Some(0.0));
        assert_eq!(line("-3.25").unwrap().value, Some(-3.25));
        assert_eq!(line("1.5e3").unwrap().value, Some(1500.0));
        assert_eq!(line("2E-2").unwrap().value, Some(0.02));
        for bad in ["", "NaN", "inf", "+1", ".5", "1.", "1.e3", "\"7\"", "1x"] {
            assert!(line(bad).is_none(), "{bad:?} accepted");
        }
        // Missing value or unit, extra keys, white space anywhere.
        let r =
            parse_line(" { \"x\" : true , \"scenario\":\"s\",\"impl\":\"i\",\"metric\":\"m\" } ")
                .unwrap();
        assert_eq!((r.value, r.unit.as_str()), (None, ""));
    }

    #[test]
    fn rejects_what_is_not_a_measurement() {
        for bad in [
            "",
            "garbage",
            "bench: configuration \"bulk\"",
            "{}",
            r#"{"scenario": "s", "impl": "i"}"#,
            r#"{"scenario": "s", "impl": "i", "metric": 3}"#,
            r#"{"scenario": "s", "impl": "i", "metric": "m""#,
            r#"{"scenario": "s", "impl": "i", "metric": "m"} trailing"#,
            r#"{"scenario": "s" "impl": "i", "metric": "m"}"#,
            r#"{"scenario": "s", "impl": "i", "metric": "m", "value": [1]}"#,
        ] {
            assert!(parse_line(bad).is_none(), "{bad:?} accepted");
        }
    }
}
