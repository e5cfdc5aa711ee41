//! What a fuzz run covered: frames per generator kind, TCP states seen by
//! the application, and the stack's counters (drop reasons included).

use std::fmt::Write as _;

use wolfip_core::Stats;

use super::app::STATES;
use super::gen::KINDS;

/// Every counter of `s`, in the order `Stats`' `Display` prints them (so
/// that a counter added to the stack and its report is checked too).
pub fn counters(s: &Stats) -> Vec<u64> {
    let text = s.to_string();
    numbers(&text).collect()
}

fn numbers(text: &str) -> impl Iterator<Item = u64> + '_ {
    text.split_ascii_whitespace().filter_map(number)
}

fn number(tok: &str) -> Option<u64> {
    let t = tok.trim_start_matches('(').trim_end_matches(')');
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// The coverage of one or several runs.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Seeds run.
    pub seeds: u64,
    /// Frames generated.
    pub frames: u64,
    /// Frames per generator kind (order of [`KINDS`]).
    pub kinds: [u64; 13],
    /// Observations of each TCP state (order of [`STATES`]).
    pub states: [u64; 11],
    /// The most frames sent in one turn.
    pub max_frames_per_turn: u64,
    /// The stack's counters, summed over runs.
    pub stats: Vec<u64>,
    /// The stack's counters as text (of one run), for the names.
    pub stats_text: String,
    /// Clean connections carried after the fuzz (the end-of-run check).
    pub clean_connections: u64,
    /// Stack time simulated, in seconds, summed over runs.
    pub simulated_secs: u64,
}

impl Coverage {
    /// Adds another run's coverage.
    pub fn merge(&mut self, o: &Coverage) {
        self.seeds += o.seeds;
        self.frames += o.frames;
        for (a, b) in self.kinds.iter_mut().zip(o.kinds) {
            *a += b;
        }
        for (a, b) in self.states.iter_mut().zip(o.states) {
            *a += b;
        }
        self.max_frames_per_turn = self.max_frames_per_turn.max(o.max_frames_per_turn);
        if self.stats.len() < o.stats.len() {
            self.stats.resize(o.stats.len(), 0);
        }
        for (a, b) in self.stats.iter_mut().zip(&o.stats) {
            *a += b;
        }
        if self.stats_text.is_empty() {
            self.stats_text.clone_from(&o.stats_text);
        }
        self.clean_connections += o.clean_connections;
        self.simulated_secs += o.simulated_secs;
    }

    /// The TCP states never seen.
    pub fn missing_states(&self) -> Vec<&'static str> {
        STATES
            .iter()
            .zip(self.states)
            .filter(|(_, n)| *n == 0)
            .map(|(s, _)| state_name(*s))
            .collect()
    }

    /// The report, as text.
    pub fn report(&self) -> String {
        let mut r = String::new();
        let _ = writeln!(
            r,
            "frames {}  seeds {}  simulated time {} s  max frames sent per turn {}  clean connections after the fuzz {}",
            self.frames, self.seeds, self.simulated_secs, self.max_frames_per_turn, self.clean_connections
        );
        let _ = writeln!(r, "frames per generator:");
        for (k, n) in KINDS.iter().zip(self.kinds) {
            let _ = writeln!(r, "  {:<12} {n}", format!("{k:?}"));
        }
        let _ = writeln!(r, "TCP states seen by the application (socket-turns):");
        for (s, n) in STATES.iter().zip(self.states) {
            let _ = writeln!(r, "  {:<12} {n}", state_name(*s));
        }
        let _ = writeln!(r, "stack counters (summed over seeds):");
        let mut it = self.stats.iter();
        for line in self.stats_text.lines() {
            let mut out = String::from("  ");
            for (j, tok) in line.split_ascii_whitespace().enumerate() {
                if j > 0 {
                    out.push(' ');
                }
                match number(tok) {
                    Some(_) => {
                        let v = it.next().copied().unwrap_or(0);
                        let pre = if tok.starts_with('(') { "(" } else { "" };
                        let post = if tok.ends_with(')') { ")" } else { "" };
                        let _ = write!(out, "{pre}{v}{post}");
                    }
                    None => out.push_str(tok),
                }
            }
            let _ = writeln!(r, "{out}");
        }
        r
    }
}

/// The RFC 9293 name of a state.
pub fn state_name(s: wolfip_core::TcpState) -> &'static str {
    use wolfip_core::TcpState::*;
    match s {
        Closed => "CLOSED",
        Listen => "LISTEN",
        SynSent => "SYN-SENT",
        SynReceived => "SYN-RECEIVED",
        Established => "ESTABLISHED",
        FinWait1 => "FIN-WAIT-1",
        FinWait2 => "FIN-WAIT-2",
        CloseWait => "CLOSE-WAIT",
        Closing => "CLOSING",
        LastAck => "LAST-ACK",
        TimeWait => "TIME-WAIT",
    }
}
