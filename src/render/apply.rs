//! Apply progress for people: Terraform-style lines (`Creating...`,
//! `Still creating... [1m0s elapsed, 45%]` every 10 seconds, `Creation complete after
//! 3m12s [id=m-...]`).

use crate::addr::ResourceAddr;
use crate::events::{Event, EventSink, Verb};
use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Prints progress lines (on stdout, or a writer).
pub struct Lines {
    last: Mutex<HashMap<ResourceAddr, Instant>>,
    every: Duration,
    color: bool,
    out: Option<Mutex<Box<dyn Write + Send>>>,
}

impl Lines {
    /// Progress lines on stdout, at most every `every` per resource.
    pub fn new(every: Duration, color: bool) -> Lines {
        Lines {
            last: Mutex::new(HashMap::new()),
            every,
            color,
            out: None,
        }
    }

    /// Progress lines written to `w` (tests snapshot them).
    pub fn to_writer(every: Duration, color: bool, w: Box<dyn Write + Send>) -> Lines {
        Lines {
            out: Some(Mutex::new(w)),
            ..Lines::new(every, color)
        }
    }

    fn line(&self, s: String) {
        match &self.out {
            Some(w) => {
                let mut w = w.lock().expect("never poisoned");
                let _ = writeln!(w, "{s}");
            }
            None => {
                let mut o = std::io::stdout().lock();
                let _ = writeln!(o, "{s}");
                let _ = o.flush();
            }
        }
    }

    fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// `1m0s`, `3s`.
pub fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{}m{}s", s / 3600, (s % 3600) / 60, s % 60)
    } else if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn words(v: Verb) -> (&'static str, &'static str, &'static str) {
    match v {
        Verb::Create => ("Creating...", "Still creating...", "Creation complete"),
        Verb::Update => (
            "Modifying...",
            "Still modifying...",
            "Modifications complete",
        ),
        Verb::Delete => (
            "Destroying...",
            "Still destroying...",
            "Destruction complete",
        ),
        Verb::Read => ("Reading...", "Still reading...", "Read complete"),
    }
}

impl EventSink for Lines {
    fn emit(&self, e: Event) {
        match e {
            Event::Start { addr, verb, id } => {
                let (start, _, _) = words(verb);
                let id = id
                    .filter(|_| verb != Verb::Create)
                    .map(|i| format!(" [id={i}]"))
                    .unwrap_or_default();
                self.last
                    .lock()
                    .expect("never poisoned")
                    .insert(addr.clone(), Instant::now());
                self.line(format!("{}: {start}{id}", self.bold(&addr.to_string())));
            }
            Event::Progress {
                addr,
                verb,
                elapsed: el,
                percent,
                status,
            } => {
                let mut g = self.last.lock().expect("never poisoned");
                let due = g.get(&addr).is_none_or(|t| t.elapsed() >= self.every);
                if due {
                    g.insert(addr.clone(), Instant::now());
                    drop(g);
                    let (_, still, _) = words(verb);
                    let pct = percent.map(|p| format!(", {p}%")).unwrap_or_default();
                    let st = if status.is_empty() {
                        String::new()
                    } else {
                        format!(", {status}")
                    };
                    self.line(format!(
                        "{}: {still} [{} elapsed{pct}{st}]",
                        self.bold(&addr.to_string()),
                        elapsed(el)
                    ));
                }
            }
            Event::Complete {
                addr,
                verb,
                elapsed: el,
                id,
            } => {
                let (_, _, done) = words(verb);
                let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
                self.line(format!(
                    "{}: {done} after {}{id}",
                    self.bold(&addr.to_string()),
                    elapsed(el)
                ));
            }
            // As Terraform's UI hook: nothing here; the error is printed with the others
            // when the apply ends.
            Event::Errored { .. } => {}
            Event::Skipped { addr, reason } => self.line(format!(
                "{}: Skipped ({reason})",
                self.bold(&addr.to_string())
            )),
            Event::Warning(w) => self.line(format!("Warning: {w}")),
            // Terraform's line for each object a plan reads (the reads themselves go in
            // batches of a hundred); PR tools that shorten a plan drop these lines by it.
            Event::RefreshStart { addr, id } => self.line(format!(
                "{}: Refreshing state... [id={id}]",
                self.bold(&addr.to_string())
            )),
            Event::RefreshComplete { .. } => {}
        }
    }
}

/// Live progress on a terminal: one line per resource with the cloud's progress percentage
/// and the elapsed time, redrawn in place (indicatif); finished lines stay as Terraform
/// prints them.
pub struct Live {
    multi: indicatif::MultiProgress,
    /// One line per operation: the two halves of a replacement are two operations on one
    /// address, each shown.
    bars: Mutex<HashMap<(ResourceAddr, Verb), indicatif::ProgressBar>>,
}

/// The live display, while one is drawing: messages from outside the walk (the interrupt
/// notice) are printed above its lines instead of being drawn over.
static ACTIVE: Mutex<Option<indicatif::MultiProgress>> = Mutex::new(None);

/// Prints `msg` on stderr, above the live display if one is drawing. True when it went
/// through the live display.
pub fn announce(msg: &str) -> bool {
    let active = ACTIVE.lock().ok().and_then(|g| g.clone());
    match active {
        Some(m) if m.println(msg).is_ok() => true,
        _ => {
            eprintln!("{msg}");
            false
        }
    }
}

impl Default for Live {
    fn default() -> Self {
        let multi = indicatif::MultiProgress::new();
        if let Ok(mut g) = ACTIVE.lock() {
            *g = Some(multi.clone());
        }
        Live {
            multi,
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Ok(mut g) = ACTIVE.lock() {
            *g = None;
        }
    }
}

impl Live {
    fn style() -> indicatif::ProgressStyle {
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
    }
}

impl EventSink for Live {
    fn emit(&self, e: Event) {
        let mut bars = self.bars.lock().expect("never poisoned");
        match e {
            Event::Start { addr, verb, .. } => {
                let pb = self.multi.add(indicatif::ProgressBar::new_spinner());
                pb.set_style(Self::style());
                pb.enable_steady_tick(Duration::from_millis(120));
                pb.set_message(format!("{addr}: {}", words(verb).0));
                bars.insert((addr, verb), pb);
            }
            Event::Progress {
                addr,
                verb,
                percent,
                status,
                ..
            } => {
                if let Some(pb) = bars.get(&(addr.clone(), verb)) {
                    let pct = percent.map(|p| format!(" {p}%")).unwrap_or_default();
                    pb.set_message(format!("{addr}: {} {status}{pct}", words(verb).1));
                }
            }
            Event::Complete {
                addr,
                verb,
                elapsed: el,
                id,
            } => {
                if let Some(pb) = bars.remove(&(addr.clone(), verb)) {
                    let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
                    pb.set_style(
                        indicatif::ProgressStyle::with_template("{msg}")
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                    );
                    pb.finish_with_message(format!(
                        "{addr}: {} after {}{id}",
                        words(verb).2,
                        elapsed(el)
                    ));
                }
            }
            Event::Errored {
                addr,
                verb,
                elapsed: el,
                ..
            } => {
                if let Some(pb) = bars.remove(&(addr.clone(), verb)) {
                    pb.set_style(
                        indicatif::ProgressStyle::with_template("{msg}")
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                    );
                    pb.finish_with_message(format!(
                        "{addr}: {} failed after {}",
                        words(verb).0.trim_end_matches("..."),
                        elapsed(el)
                    ));
                }
            }
            Event::Skipped { addr, reason } => {
                let _ = self.multi.println(format!("{addr}: Skipped ({reason})"));
            }
            Event::Warning(w) => {
                let _ = self.multi.println(format!("Warning: {w}"));
            }
            Event::RefreshStart { .. } | Event::RefreshComplete { .. } => {}
        }
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;

    #[test]
    fn the_halves_of_a_replacement_are_two_lines_and_notices_go_above() {
        let addr: ResourceAddr = "alicloud_image.r".parse().expect("address");
        let live = Live::default();
        live.multi
            .set_draw_target(indicatif::ProgressDrawTarget::hidden());
        for verb in [Verb::Create, Verb::Delete] {
            live.emit(Event::Start {
                addr: addr.clone(),
                verb,
                id: None,
            });
        }
        assert_eq!(
            live.bars.lock().expect("lock").len(),
            2,
            "both halves shown"
        );
        live.emit(Event::Complete {
            addr: addr.clone(),
            verb: Verb::Delete,
            elapsed: Duration::from_secs(1),
            id: None,
        });
        let left: Vec<Verb> = live
            .bars
            .lock()
            .expect("lock")
            .keys()
            .map(|k| k.1)
            .collect();
        assert_eq!(
            left,
            [Verb::Create],
            "the destroy half finished on its own line"
        );
        assert!(
            announce("Interrupt received."),
            "printed through the live display"
        );
        drop(live);
        assert!(
            !announce("after the display"),
            "plain stderr once it is gone"
        );
    }
}
