//! The state edits commands make, each under the state lock and in one transaction: `state
//! rm`, `state mv`, `state push`, `state migrate`, and keeping what a refresh learned. The
//! command line only parses arguments and prints what these return.

use super::backend::{Backend, Locked};
use super::State;
use crate::addr::ResourceAddr;
use anyhow::bail;
use std::time::Duration;

/// The instances `addrs` name (an address without a key names every instance of its
/// resource); an address naming nothing is an error.
pub fn matching(st: &State, addrs: &[ResourceAddr]) -> anyhow::Result<Vec<ResourceAddr>> {
    let mut gone = Vec::new();
    for a in addrs {
        let m: Vec<ResourceAddr> = st
            .resources
            .keys()
            .filter(|k| *k == a || (a.key.is_none() && k.id == a.id))
            .cloned()
            .collect();
        if m.is_empty() {
            bail!("{a} is not in the state; nothing was removed");
        }
        gone.extend(m);
    }
    gone.sort();
    gone.dedup();
    Ok(gone)
}

/// `state rm`: forgets the instances `addrs` name, all of them or none; returns them.
pub fn rm(
    store: &mut Box<dyn Backend>,
    addrs: &[ResourceAddr],
    dry_run: bool,
) -> anyhow::Result<Vec<ResourceAddr>> {
    let mut locked = Locked::take(store, "state rm", Duration::ZERO)?;
    let gone = matching(&locked.load()?, addrs)?;
    if !dry_run {
        locked.edit(&[], &gone)?;
    }
    locked.release()?;
    Ok(gone)
}

/// `state mv`: the object is at one address before and after, never two.
pub fn mv(
    store: &mut Box<dyn Backend>,
    src: &ResourceAddr,
    dst: &ResourceAddr,
    dry_run: bool,
) -> anyhow::Result<()> {
    if src.id.kind != dst.id.kind {
        bail!("cannot move {src} to {dst}: the resource types differ");
    }
    let mut locked = Locked::take(store, "state mv", Duration::ZERO)?;
    let st = locked.load()?;
    let Some(mut r) = st.resources.get(src).cloned() else {
        bail!("{src} is not in the state")
    };
    if st.resources.contains_key(dst) {
        bail!("{dst} is already in the state");
    }
    if !dry_run {
        r.addr = dst.clone();
        locked.edit(&[r], std::slice::from_ref(src))?;
    }
    locked.release()?;
    Ok(())
}

/// `state push`: replaces the state with `new` when it belongs to it (same lineage) and is
/// newer, or with `force`.
pub fn push(store: &mut Box<dyn Backend>, new: &State, force: bool) -> anyhow::Result<()> {
    let mut locked = Locked::take(store, "state push", Duration::ZERO)?;
    let st = locked.load()?;
    if new.lineage != st.lineage && !st.resources.is_empty() && !force {
        bail!("cannot push: the file's lineage {} differs from the state's {} (it belongs to another state); use --force to replace it anyway", new.lineage, st.lineage);
    }
    if new.serial <= st.serial && !force {
        bail!("cannot push: the file's serial {} is not newer than the state's {}; pull, edit and bump the serial, or use --force", new.serial, st.serial);
    }
    locked.replace_all(new)?;
    locked.release()?;
    Ok(())
}

/// `state migrate`: copies the whole state from `src` to `dst`, keeping its lineage;
/// refuses to overwrite another state or a newer one. Returns what was copied.
pub fn migrate(src: &mut Box<dyn Backend>, dst: &mut Box<dyn Backend>) -> anyhow::Result<State> {
    let from = src.load()?;
    let mut locked = Locked::take(dst, "state migrate", Duration::ZERO)?;
    let existing = locked.load()?;
    if !existing.resources.is_empty() && existing.lineage != from.lineage {
        bail!(
            "refusing to migrate: {} holds another state (lineage {}); remove it first",
            locked.describe(),
            existing.lineage
        );
    }
    if existing.serial > from.serial {
        bail!(
            "refusing to migrate: {} is newer (serial {} > {})",
            locked.describe(),
            existing.serial,
            from.serial
        );
    }
    locked.replace_all(&from)?;
    locked.release()?;
    Ok(from)
}

/// Keeps what a refresh learned (objects gone, attributes changed outside imgform) in one
/// transaction, as Terraform's apply does even when nothing else changes.
pub fn persist_refresh(store: &mut dyn Backend, refreshed: &State) -> anyhow::Result<()> {
    let st = store.load()?;
    let mut puts = Vec::new();
    let mut removes = Vec::new();
    for (addr, r) in &st.resources {
        match refreshed.resources.get(addr) {
            None => removes.push(addr.clone()),
            Some(n) if n != r => puts.push(n.clone()),
            _ => {}
        }
    }
    if !puts.is_empty() || !removes.is_empty() {
        store.edit(&puts, &removes)?;
    }
    Ok(())
}

/// `state import-terraform`: writes adopted rows in one transaction, refusing an address
/// already in the state and an object already managed at another address.
pub fn adopt(
    store: &mut Box<dyn Backend>,
    rows: &[super::ResourceState],
    dry_run: bool,
) -> anyhow::Result<()> {
    let mut locked = Locked::take(store, "state import-terraform", Duration::ZERO)?;
    let st = locked.load()?;
    for r in rows {
        if st.resources.contains_key(&r.addr) {
            bail!("{} is already in imgform's state; remove it with `imgform state rm` first, or leave it out", r.addr);
        }
        if let Some(other) = st
            .resources
            .values()
            .find(|o| o.id.is_some() && o.id == r.id)
        {
            bail!(
                "{} ({}) is already managed at {}: one object must not have two addresses",
                r.addr,
                r.id.as_deref().unwrap_or_default(),
                other.addr
            );
        }
    }
    if !dry_run {
        locked.edit(rows, &[])?;
    }
    locked.release()?;
    Ok(())
}
