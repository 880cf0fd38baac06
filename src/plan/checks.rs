//! Phase 7, `checks`: the objects the planned creates name — snapshots, instances, source
//! images, components, pipelines, regions — are read from the cloud in batches (as many ids
//! a call as the lookup takes, each batch started as soon as it is full, while the planner
//! walks on, within the client's limits) and judged by the rules of the API pages
//! (`resource::objects`). Every problem is a diagnostic at the
//! attribute that names the object; an object on its way to usable (an instance Starting)
//! is a warning, and apply waits for it before the create. Regions come first: an object
//! in a region that does not exist is not looked for.

use super::build::{Batch, Reader, Started};
use crate::addr::ResourceAddr;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::resource::kind::Reference;
use crate::resource::objects::Finding;
use crate::resource::EvalBody;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// An object a planned create names, where it is named.
#[derive(Debug, Clone)]
pub(super) struct Mention {
    /// The instance whose create needs it.
    pub addr: ResourceAddr,
    /// The provider whose credentials read it.
    pub provider: String,
    /// The region it is looked for in.
    pub region: String,
    /// What it is.
    pub reference: Reference,
    /// The attribute that names it.
    pub span: Span,
}

/// The span of the attribute at `path` (`snapshot_id`, `disk_device_mapping.1.snapshot_id`)
/// in `body`; the enclosing block's when the path leads nowhere.
pub(super) fn span_at(body: &EvalBody, path: &str) -> Span {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return body.span.clone();
    };
    match (
        parts.next().and_then(|i| i.parse::<usize>().ok()),
        parts.next(),
    ) {
        (Some(i), Some(attr)) => body
            .blocks(first)
            .nth(i)
            .map(|b| span_at(&b.body, attr))
            .unwrap_or_else(|| body.span_of(first)),
        _ => body.span_of(first),
    }
}

/// The mentions of a plan, read as they come: a batch is started the moment it is full,
/// so the cloud answers while the planner walks on; the rest are read when the walk ends.
pub(super) struct Checker {
    /// Whether reads are started as mentions come (refresh on, a cloud to read).
    reading: bool,
    mentions: Vec<Mention>,
    /// The ids of each (provider, region, sort) not yet in a started batch.
    filling: BTreeMap<(String, String, &'static str), Batch>,
    /// Every id read or to be read, once.
    seen: HashSet<Key>,
    /// The batches started, with their reads.
    started: Vec<(Batch, Option<Started>)>,
}

impl Checker {
    /// A checker for a plan made with `reader`; with `no_refresh` it reads nothing.
    pub(super) fn new(reader: &dyn Reader, no_refresh: bool) -> Checker {
        Checker {
            reading: reader.online() && !no_refresh,
            mentions: Vec::new(),
            filling: BTreeMap::new(),
            seen: HashSet::new(),
            started: Vec::new(),
        }
    }

    /// Adds a mention; starts its batch's read when the batch is full. Regions are read
    /// first, at the end.
    pub(super) fn add(&mut self, m: Mention, reader: &mut dyn Reader) {
        if self.reading && !m.reference.sort.is_region && self.seen.insert(key(&m)) {
            let sort = m.reference.sort;
            let group = (m.provider.clone(), m.region.clone(), sort.what);
            let batch = self.filling.entry(group.clone()).or_insert_with(|| Batch {
                provider: m.provider.clone(),
                region: m.region.clone(),
                sort,
                ids: Vec::new(),
            });
            batch.ids.push(m.reference.id.clone());
            if batch.ids.len() >= sort.lookup.batch.max(1) {
                if let Some(full) = self.filling.remove(&group) {
                    let read = reader.start(&full);
                    self.started.push((full, read));
                }
            }
        }
        self.mentions.push(m);
    }

    /// Reads what is left, waits for every read and judges every mention. Returns the
    /// instances whose create must check again just before it is sent (an object not yet
    /// usable, or one whose read failed).
    pub(super) fn finish(
        mut self,
        reader: &mut dyn Reader,
        no_refresh: bool,
        diags: &mut Diagnostics,
    ) -> HashSet<ResourceAddr> {
        let mut recheck = HashSet::new();
        if self.mentions.is_empty() || !reader.online() {
            return recheck;
        }
        if no_refresh {
            diags.push(Diagnostic::warning(
                "Objects named by the configuration were not checked",
                format!(
                    "-refresh=false: the {} object(s) the planned creates name (snapshots, instances, source images, …) were not looked up in the cloud; apply may fail on one that does not exist or cannot be used",
                    self.mentions.len()
                ),
                None,
            ));
            return recheck;
        }
        let regions: Vec<&Mention> = self
            .mentions
            .iter()
            .filter(|m| m.reference.sort.is_region)
            .collect();
        let mut absent_regions = BTreeSet::new();
        if !regions.is_empty() {
            let mut batches: BTreeMap<(String, String), Batch> = BTreeMap::new();
            for m in &regions {
                batches
                    .entry((m.provider.clone(), m.region.clone()))
                    .or_insert_with(|| Batch {
                        provider: m.provider.clone(),
                        region: m.region.clone(),
                        sort: m.reference.sort,
                        ids: Vec::new(),
                    })
                    .ids
                    .push(m.reference.id.clone());
            }
            let reads: Vec<(Batch, Option<Started>)> = batches
                .into_values()
                .map(|b| {
                    let read = reader.start(&b);
                    (b, read)
                })
                .collect();
            let found = answers(reader, reads, &BTreeSet::new(), diags);
            for m in &regions {
                let read = found.get(&key(m));
                if read == Some(&Finding::Absent) {
                    absent_regions.insert(m.reference.id.clone());
                }
                report(m, read, diags, &mut recheck);
            }
        }
        for (_, b) in std::mem::take(&mut self.filling) {
            if !absent_regions.contains(&b.region) {
                let read = reader.start(&b);
                self.started.push((b, read));
            }
        }
        let t = std::time::Instant::now();
        let batches = self.started.len();
        let found = answers(
            reader,
            std::mem::take(&mut self.started),
            &absent_regions,
            diags,
        );
        tracing::debug!(
            objects = found.len(),
            batches,
            waited_ms = t.elapsed().as_millis() as u64,
            "checked the objects the plan names"
        );
        for m in self.mentions.iter().filter(|m| !m.reference.sort.is_region) {
            if !absent_regions.contains(&m.region) {
                report(m, found.get(&key(m)), diags, &mut recheck);
            }
        }
        recheck
    }
}

/// Where an object's verdict is kept: provider, region, sort, id.
type Key = (String, String, &'static str, String);

fn key(m: &Mention) -> Key {
    (
        m.provider.clone(),
        m.region.clone(),
        m.reference.sort.what,
        m.reference.id.clone(),
    )
}

/// Waits for the reads. The answer holds the verdict on every id that was read; an id
/// whose read failed is missing, and the failure is a warning (not for a region found
/// not to exist: its objects are not judged).
fn answers(
    reader: &mut dyn Reader,
    reads: Vec<(Batch, Option<Started>)>,
    absent_regions: &BTreeSet<String>,
    diags: &mut Diagnostics,
) -> HashMap<Key, Finding> {
    let mut batches = Vec::with_capacity(reads.len());
    let mut going = Vec::with_capacity(reads.len());
    for (b, read) in reads {
        batches.push((b, read.is_some()));
        going.extend(read);
    }
    let mut waited = reader.wait(going).into_iter();
    let mut out = HashMap::new();
    for (b, started) in batches {
        // `wait` answers the reads that started, in order.
        let answer = match started {
            true => waited
                .next()
                .unwrap_or_else(|| Err("the read did not answer".into())),
            false => Err("the read could not start".into()),
        };
        match answer {
            Ok(mut verdicts) => {
                for id in &b.ids {
                    let k = (
                        b.provider.clone(),
                        b.region.clone(),
                        b.sort.what,
                        id.clone(),
                    );
                    out.insert(k, verdicts.remove(id).unwrap_or(Finding::Absent));
                }
            }
            Err(_) if absent_regions.contains(&b.region) => {}
            Err(e) => diags.push(
                Diagnostic::warning(
                    "Objects named by the configuration could not be checked",
                    format!(
                        "reading {} {} in {} failed: {e}",
                        b.ids.len(),
                        b.sort.lookup.name,
                        b.region
                    ),
                    None,
                )
                .with_hint("apply checks them again just before each create"),
            ),
        }
    }
    out
}

/// "`snapshot_id` names snapshot s-1 in cn-hangzhou" (a region is named, not in one).
fn named(m: &Mention) -> String {
    let r = &m.reference;
    let at = if r.sort.is_region {
        String::new()
    } else {
        format!(" in {}", m.region)
    };
    format!("`{}` names {} {}{at}", r.path, r.sort.what, r.id)
}

/// The diagnostic of one mention, from its verdict (`None`: not read at all).
fn report(
    m: &Mention,
    read: Option<&Finding>,
    diags: &mut Diagnostics,
    recheck: &mut HashSet<ResourceAddr>,
) {
    let r = &m.reference;
    let Some(finding) = read else {
        recheck.insert(m.addr.clone());
        return;
    };
    match finding {
        Finding::Usable => {}
        Finding::Absent => diags.push(
            Diagnostic::error(
                "Reference to an object that does not exist",
                format!(
                    "{}: it does not exist ({}); {} cannot be created",
                    named(m),
                    r.sort.absent,
                    m.addr
                ),
                Some(m.span.clone()),
            )
            .with_hint(r.sort.hint),
        ),
        Finding::Transitional(why) => {
            recheck.insert(m.addr.clone());
            diags.push(Diagnostic::warning(
                format!("The {} {} is not ready yet", r.sort.what, r.id),
                format!(
                    "{}: {why}; apply waits for it before creating {}",
                    named(m),
                    m.addr
                ),
                Some(m.span.clone()),
            ));
        }
        Finding::Refused { why, code } => diags.push(
            Diagnostic::error(
                format!("The {} {} cannot be used", r.sort.what, r.id),
                format!("{}: {why} ({code}); {} cannot be created", named(m), m.addr),
                Some(m.span.clone()),
            )
            .with_hint(r.sort.hint),
        ),
    }
}
