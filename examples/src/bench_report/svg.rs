//! The launcher's chart: a self-contained SVG of horizontal grouped bars,
//! one group per (scenario, metric), one bar per implementation in a fixed
//! colour, the value written at the end of each bar.
//!
//! Rates (units ending in `/s`, throughput first) come first, in one panel
//! per unit; every other unit (`B`, `ns`, ...) gets a panel of its own
//! after them. Figures span several orders of magnitude (about 3 to 6,000
//! Mbit/s), so each panel has a logarithmic scale with labelled decades.

use std::fmt::Write as _;

use super::{fmt_num, groups, impls_present, Group, Row};

/// The width of the chart in pixels; the height follows from its content.
pub const WIDTH: f64 = 900.0;
/// Where the bars start: the group labels are to the left of it.
const PLOT_X0: f64 = 250.0;
/// Where the largest decade ends: value labels go to the right of bars.
const PLOT_X1: f64 = 820.0;
/// One bar's height and the space between two bars of a group.
const BAR_H: f64 = 14.0;
const BAR_GAP: f64 = 3.0;
/// The space between two groups.
const GROUP_GAP: f64 = 10.0;
/// A group is at least this tall, to hold its two label lines.
const GROUP_MIN_H: f64 = 28.0;

/// The colour of an implementation's bars: fixed for the known ones, from
/// a spare palette (by position among the others) for any other.
pub fn colour(imp: &str, others_before: usize) -> &'static str {
    match imp {
        "wolfip" => "#e8590c",
        "smoltcp" => "#1c7ed6",
        "linux" => "#2f9e44",
        "tap-limit" => "#868e96",
        _ => ["#ae3ec9", "#f59f00", "#0c8599", "#e64980"][others_before % 4],
    }
}

/// Text escaped for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Whether `unit` is a rate (higher is better), e.g. `Mbit/s`, `conn/s`.
fn is_rate(unit: &str) -> bool {
    unit.ends_with("/s")
}

/// The heading of the panel of `unit`; `log` when it has a scale (some
/// value above zero).
fn heading(unit: &str, log: bool) -> String {
    let unit_e = escape(unit);
    let (kind, better) = if unit.ends_with("bit/s") {
        ("Throughput, ", ", higher is better")
    } else if is_rate(unit) {
        ("Rate, ", ", higher is better")
    } else if matches!(unit, "ns" | "us" | "µs" | "ms" | "s") {
        ("Time, ", ", lower is better")
    } else if matches!(unit, "B" | "KiB" | "MiB" | "bytes") {
        ("Memory, ", ", lower is better")
    } else if matches!(unit, "x" | "ratio") {
        ("Ratio, ", "")
    } else {
        ("", "")
    };
    let unit_e = if unit.is_empty() {
        "no unit".to_string()
    } else {
        unit_e
    };
    if log {
        format!("{kind}{unit_e} (log scale{better})")
    } else {
        format!("{kind}{unit_e} (no value above zero)")
    }
}

/// The groups of the chart's panels: the units in order (bit rates, other
/// rates, the rest, each by first appearance) with the groups of each.
fn panels<'a>(groups: &[Group<'a>]) -> Vec<(&'a str, Vec<Group<'a>>)> {
    let mut units: Vec<&str> = Vec::new();
    for g in groups {
        if !units.contains(&g.unit) {
            units.push(g.unit);
        }
    }
    let rank = |u: &str| match (u.ends_with("bit/s"), is_rate(u)) {
        (true, _) => 0,
        (false, true) => 1,
        _ => 2,
    };
    // A stable sort keeps the order of appearance within a rank.
    units.sort_by_key(|u| rank(u));
    units
        .into_iter()
        .map(|u| (u, groups.iter().filter(|g| g.unit == u).cloned().collect()))
        .collect()
}

/// A logarithmic scale from one decade to another over the plot's width.
struct LogScale {
    /// The exponents of the first and last decade.
    lo: i32,
    hi: i32,
}

impl LogScale {
    /// The decades around every positive value of `groups` (`None` when
    /// there is none); the lowest value is always above the first decade
    /// so that its bar shows.
    fn of(groups: &[Group<'_>]) -> Option<LogScale> {
        let positive = groups
            .iter()
            .flat_map(|g| g.values.iter().filter_map(|v| v.1))
            .filter(|v| *v > 0.0 && v.is_finite());
        let (min, max) = positive.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        if max == 0.0 {
            return None;
        }
        let mut lo = min.log10().floor() as i32;
        if 10f64.powi(lo) >= min {
            lo -= 1;
        }
        let hi = (max.log10().ceil() as i32).max(lo + 1);
        Some(LogScale { lo, hi })
    }

    /// The x of value `v` (> 0), clamped to the plot.
    fn x(&self, v: f64) -> f64 {
        let f = (v.log10() - self.lo as f64) / (self.hi - self.lo) as f64;
        PLOT_X0 + f.clamp(0.0, 1.0) * (PLOT_X1 - PLOT_X0)
    }
}

/// The label of decade `10^e`: `0.01`, `1`, `10,000`.
fn decade_label(e: i32) -> String {
    if e >= 0 {
        fmt_num(10f64.powi(e))
    } else {
        format!("{:.*}", (-e) as usize, 10f64.powi(e))
    }
}

/// The chart of `rows`: a title, a legend of the implementations present,
/// then the panels (see the module's documentation). Without rows, the
/// title and a line saying so.
pub fn chart(rows: &[Row]) -> String {
    let impls = impls_present(rows);
    let groups = groups(rows);
    let colours: Vec<(&str, &str)> = {
        let mut others = 0;
        impls
            .iter()
            .map(|i| {
                let c = colour(i, others);
                if !super::IMPLS.contains(i) {
                    others += 1;
                }
                (*i, c)
            })
            .collect()
    };
    let colour_of = |imp: &str| {
        colours
            .iter()
            .find(|(i, _)| *i == imp)
            .map_or("#000", |(_, c)| *c)
    };
    let mut body = String::new();
    let mut y = 0.0;
    // Title and legend.
    let panels = panels(&groups);
    // Throughput, unless the chart has other things too.
    let title = if panels.iter().all(|p| is_rate(p.0)) {
        "Throughput by scenario and implementation"
    } else {
        "Benchmarks by scenario and implementation"
    };
    let _ = writeln!(
        body,
        r#"<text x="20" y="30" font-size="18" font-weight="bold">{title}</text>"#
    );
    let mut x = 20.0;
    for (imp, c) in &colours {
        let _ = writeln!(
            body,
            r#"<rect class="legend" x="{x}" y="45" width="12" height="12" fill="{c}"/><text x="{tx}" y="55.5">{name}</text>"#,
            tx = x + 17.0,
            name = escape(imp)
        );
        x += 17.0 + 7.5 * imp.chars().count() as f64 + 22.0;
    }
    y += 70.0;
    if groups.is_empty() {
        let _ = writeln!(
            body,
            r##"<text x="20" y="{ty}" fill="#555">No measurements to chart.</text>"##,
            ty = y + 20.0
        );
        y += 40.0;
    }
    for (unit, panel) in panels {
        y = draw_panel(&mut body, y, unit, &panel, &colour_of);
    }
    let height = (y + 10.0).ceil();
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, "<title>wolfip: {title}</title>");
    let _ = writeln!(
        out,
        r#"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/>"#
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// Draws the panel of `unit` from `y` down; returns where it ends.
fn draw_panel(
    out: &mut String,
    mut y: f64,
    unit: &str,
    groups: &[Group<'_>],
    colour_of: &dyn Fn(&str) -> &'static str,
) -> f64 {
    let scale = LogScale::of(groups);
    let _ = writeln!(
        out,
        r#"<text x="20" y="{ty}" font-size="14" font-weight="bold">{h}</text>"#,
        ty = y + 16.0,
        h = heading(unit, scale.is_some())
    );
    y += 40.0;
    let top = y;
    let height: f64 = groups
        .iter()
        .map(|g| group_height(g.values.len()) + GROUP_GAP)
        .sum::<f64>()
        - GROUP_GAP;
    let bottom = top + height.max(0.0);
    // Every other group on a light band, under everything else.
    let mut band_y = top;
    for (n, g) in groups.iter().enumerate() {
        let h = group_height(g.values.len());
        if n % 2 == 1 {
            let _ = writeln!(
                out,
                r##"<rect x="10" y="{by:.1}" width="{bw}" height="{bh:.1}" fill="#f3f3f3"/>"##,
                by = band_y - GROUP_GAP / 2.0,
                bw = WIDTH - 20.0,
                bh = h + GROUP_GAP
            );
        }
        band_y += h + GROUP_GAP;
    }
    // Grid: a labelled line per decade, light ones at 2 to 9 times each.
    for e in scale.iter().flat_map(|s| s.lo..=s.hi) {
        let Some(scale) = &scale else { break };
        let x = scale.x(10f64.powi(e));
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{bottom}" stroke="#bbb"/><text x="{x:.1}" y="{ty}" text-anchor="middle" font-size="11" fill="#444">{l}</text>"##,
            y1 = top - 6.0,
            ty = top - 10.0,
            l = decade_label(e)
        );
        if e < scale.hi {
            for m in 2..10 {
                let x = scale.x(m as f64 * 10f64.powi(e));
                let _ = writeln!(
                    out,
                    r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}" stroke="#eee"/>"##
                );
            }
        }
    }
    for g in groups {
        let h = group_height(g.values.len());
        let mid = y + h / 2.0;
        let _ = writeln!(
            out,
            r##"<text x="{lx}" y="{ty:.1}" text-anchor="end" font-weight="bold">{s}</text><text x="{lx}" y="{my:.1}" text-anchor="end" font-size="11" fill="#444">{m}</text>"##,
            lx = PLOT_X0 - 10.0,
            ty = mid - 2.0,
            my = mid + 11.0,
            s = escape(g.scenario),
            m = escape(g.metric)
        );
        let bars_h = g.values.len() as f64 * (BAR_H + BAR_GAP) - BAR_GAP;
        let mut by = y + (h - bars_h) / 2.0;
        for (imp, v) in &g.values {
            let label = match v {
                Some(v) => fmt_num(*v),
                None => "n/a".to_string(),
            };
            let mut end = PLOT_X0;
            if let (Some(scale), Some(v)) = (&scale, v.filter(|v| *v > 0.0 && v.is_finite())) {
                end = scale.x(v);
                let _ = writeln!(
                    out,
                    r#"<rect class="bar" x="{PLOT_X0}" y="{by:.1}" width="{w:.1}" height="{BAR_H}" fill="{c}"><title>{t}</title></rect>"#,
                    w = (end - PLOT_X0).max(1.0),
                    c = colour_of(imp),
                    t = escape(&format!(
                        "{} {} {}: {} {}",
                        g.scenario, g.metric, imp, label, unit
                    ))
                );
            }
            let _ = writeln!(
                out,
                r##"<text x="{tx:.1}" y="{ty:.1}" font-size="11" fill="#222">{l}</text>"##,
                tx = end + 4.0,
                ty = by + BAR_H - 3.0,
                l = escape(&label)
            );
            by += BAR_H + BAR_GAP;
        }
        y += h + GROUP_GAP;
    }
    let _ = writeln!(
        out,
        r##"<line x1="{PLOT_X0}" y1="{y1}" x2="{PLOT_X0}" y2="{bottom}" stroke="#666"/>"##,
        y1 = top - 6.0
    );
    bottom + 24.0
}

/// The height of a group of `bars` bars.
fn group_height(bars: usize) -> f64 {
    (bars as f64 * (BAR_H + BAR_GAP) - BAR_GAP).max(GROUP_MIN_H)
}

#[cfg(test)]
mod tests;
