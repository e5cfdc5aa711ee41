//! Tests of the chart, with a tiny well-formedness check of XML.

use super::*;

use crate::bench_report::test_row as row;

/// Whether `s` starts with a character or entity reference XML knows
/// (`s` begins just after the `&`).
fn entity_ok(s: &str) -> bool {
    let Some(end) = s.find(';') else {
        return false;
    };
    let e = &s[..end];
    matches!(e, "amp" | "lt" | "gt" | "quot" | "apos")
        || e.strip_prefix("#x")
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        || e.strip_prefix('#')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks that character data has no raw `<` or bare `&`.
fn text_ok(t: &str) -> Result<(), String> {
    if t.contains('<') {
        return Err(format!("raw < in {t:?}"));
    }
    for (i, _) in t.match_indices('&') {
        if !entity_ok(&t[i + 1..]) {
            return Err(format!("bare & in {t:?}"));
        }
    }
    Ok(())
}

/// A small check of well-formedness: one root element, every tag closed
/// in order, attributes quoted (each once) and their values and all text
/// escaped. Returns the names of the elements in document order.
fn well_formed(doc: &str) -> Result<Vec<String>, String> {
    let mut open: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut roots = 0;
    let mut rest = doc;
    if let Some(r) = rest.strip_prefix("<?xml") {
        rest = &r[r.find("?>").ok_or("unterminated declaration")? + 2..];
    }
    while !rest.is_empty() {
        let lt = rest.find('<').unwrap_or(rest.len());
        let text = &rest[..lt];
        if open.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root: {text:?}"));
        }
        text_ok(text)?;
        rest = &rest[lt..];
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->").ok_or("unterminated comment")? + 3..];
            continue;
        }
        let gt = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(o) if o == name.trim() => continue,
                o => return Err(format!("</{name}> closes {o:?}")),
            }
        }
        let (tag, empty) = match tag.strip_suffix('/') {
            Some(t) => (t, true),
            None => (tag, false),
        };
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = &tag[..name_end];
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err(format!("bad element name in <{tag}>"));
        }
        let mut attrs = tag[name_end..].trim();
        let mut names = Vec::new();
        while !attrs.is_empty() {
            let eq = attrs
                .find("=\"")
                .ok_or(format!("unquoted attribute in <{tag}>"))?;
            let a = attrs[..eq].trim();
            if a.is_empty() || a.contains(char::is_whitespace) || names.contains(&a) {
                return Err(format!("bad attribute {a:?} in <{tag}>"));
            }
            names.push(a);
            let v = &attrs[eq + 2..];
            let close = v.find('"').ok_or("unterminated attribute")?;
            text_ok(&v[..close])?;
            attrs = v[close + 1..].trim_start();
        }
        if open.is_empty() {
            roots += 1;
        }
        seen.push(name.to_string());
        if !empty {
            open.push(name.to_string());
        }
    }
    if let Some(o) = open.pop() {
        return Err(format!("<{o}> not closed"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(seen)
}

#[test]
fn the_checker_catches_mistakes() {
    assert!(well_formed(r#"<svg a="1"><g><rect/></g><text>a &amp; b</text></svg>"#).is_ok());
    for bad in [
        "<svg><g></svg></g>",
        "<svg><g></svg>",
        "<svg>a & b</svg>",
        "<svg>a < b</svg>",
        r#"<svg a="x<y"/>"#,
        r#"<svg a="1" a="2"/>"#,
        "<svg a=1/>",
        "<svg/><svg/>",
        "text<svg/>",
    ] {
        assert!(well_formed(bad).is_err(), "{bad:?} passed");
    }
}

fn sample() -> Vec<Row> {
    vec![
        row("bulk-sim", "wolfip", "throughput", Some(4836.0), "Mbit/s"),
        row("bulk-sim", "smoltcp", "throughput", Some(6721.0), "Mbit/s"),
        row("lossy-lfn", "wolfip", "goodput", Some(2.8), "Mbit/s"),
        row("lossy-lfn", "smoltcp", "goodput", Some(21.13), "Mbit/s"),
        row("bulk-tap", "wolfip", "throughput", Some(950.0), "Mbit/s"),
        row("bulk-tap", "linux", "throughput", None, "Mbit/s"),
        row(
            "bulk-tap",
            "tap-limit",
            "throughput",
            Some(3100.0),
            "Mbit/s",
        ),
        row("memory", "wolfip", "ram", Some(116_608.0), "B"),
        row("memory", "smoltcp", "ram", Some(53_408.0), "B"),
        row("memory", "wolfip", "heap-allocs", Some(0.0), "allocations"),
    ]
}

#[test]
fn a_well_formed_chart_with_one_bar_per_value() {
    let svg = chart(&sample());
    let elements = well_formed(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert_eq!(elements[0], "svg");
    assert!(svg.starts_with("<?xml"));
    // Positive values only: the null and the zero get a label, no bar.
    assert_eq!(svg.matches(r#"class="bar""#).count(), 8, "{svg}");
    assert_eq!(svg.matches(">n/a</text>").count(), 1);
    assert!(svg.contains(">0</text>"));
    // A legend entry per implementation, each in its colour.
    assert_eq!(svg.matches(r#"class="legend""#).count(), 4);
    for (imp, c) in [("wolfip", "#e8590c"), ("smoltcp", "#1c7ed6")] {
        assert!(svg.contains(&format!(r#"fill="{c}"/><text x"#)), "{imp}");
        assert!(svg.contains(&format!(r#"fill="{c}"><title>"#)), "{imp}");
    }
    assert_eq!(svg.matches(r##"fill="#e8590c"><title>"##).count(), 4);
    // Value labels, decades, a panel per unit with throughput first.
    assert!(svg.contains(">4,836</text>") && svg.contains(">2.80</text>"));
    assert!(svg.contains(">1</text>") && svg.contains(">10,000</text>"));
    let t = svg.find("Throughput, Mbit/s").unwrap();
    let b = svg.find(">Memory, B (log scale, lower is better)").unwrap();
    assert!(t < b && svg.contains(">allocations (no value above zero)"));
    assert!(svg.contains(">Benchmarks by scenario"));
    assert!(chart(&sample()[..2]).contains(">Throughput by scenario"));
    // The height grows with the content.
    let h = |s: &str| {
        let i = s.find("height=\"").unwrap() + 8;
        s[i..i + s[i..].find('"').unwrap()].parse::<f64>().unwrap()
    };
    assert!(h(&svg) > h(&chart(&sample()[..2])));
}

#[test]
fn labels_are_escaped() {
    let svg = chart(&[
        row("a<b>&c", "wolfip", "\"q\" 'm'", Some(5.0), "Mbit/s"),
        row("a<b>&c", "x&y", "\"q\" 'm'", Some(50.0), "Mbit/s"),
    ]);
    well_formed(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert!(svg.contains("a&lt;b&gt;&amp;c"));
    assert!(svg.contains("&quot;q&quot; &apos;m&apos;"));
    assert!(svg.contains(">x&amp;y</text>"));
    assert!(!svg.contains("a<b"));
    // The other implementation has a colour of the spare palette.
    assert!(svg.contains(r##"fill="#ae3ec9"><title>a&lt;b&gt;&amp;c"##));
    assert_eq!(escape("\u{1}<"), " &lt;");
}

#[test]
fn a_chart_without_rates() {
    let svg = chart(&[
        row("memory", "wolfip", "ram", Some(1000.0), "B"),
        row("memory", "smoltcp", "ram", Some(100.0), "B"),
        row(
            "scaling",
            "wolfip",
            "segment-delivery-ns",
            Some(24_598.0),
            "ns",
        ),
    ]);
    well_formed(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert!(!svg.contains("Throughput,"));
    assert!(svg.contains("Time, ns (log scale, lower is better)"));
    assert_eq!(svg.matches(r#"class="bar""#).count(), 3);
    // 100 is a decade: the scale starts one lower so that its bar shows.
    assert!(svg.contains(">10</text>"));
    let empty = chart(&[]);
    well_formed(&empty).unwrap_or_else(|e| panic!("{e}\n{empty}"));
    assert!(empty.contains("No measurements to chart."));
    assert_eq!(empty.matches("<rect").count(), 1);
}

#[test]
fn log_scale_decades() {
    let g = |vals: &[f64]| Group {
        scenario: "s",
        metric: "m",
        unit: "u",
        values: vals.iter().map(|v| ("wolfip", Some(*v))).collect(),
    };
    let s = LogScale::of(&[g(&[3.0, 6000.0])]).unwrap();
    assert_eq!((s.lo, s.hi), (0, 4));
    assert_eq!(s.x(1.0), PLOT_X0);
    assert_eq!(s.x(10_000.0), PLOT_X1);
    assert!((s.x(100.0) - (PLOT_X0 + PLOT_X1) / 2.0).abs() < 1e-9);
    let s = LogScale::of(&[g(&[0.05, 1000.0])]).unwrap();
    assert_eq!((s.lo, s.hi), (-2, 3));
    assert_eq!(decade_label(-2), "0.01");
    assert_eq!(decade_label(3), "1,000");
    assert!(LogScale::of(&[g(&[0.0])]).is_none());
}
