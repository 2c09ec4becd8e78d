//! Copy-on-write sorted tables for the registry's snapshots.
//!
//! A table is a sorted sequence of items split into chunks of at most
//! [`MAX_CHUNK`] items, each behind an `Arc`. Deriving the next snapshot
//! clones the chunk pointers and copies only the chunks a change touches, so a
//! publish costs O(chunks + MAX_CHUNK), not O(items) (`doc/jit.md`, "Runtime
//! metadata registry"). Lookups search the chunks' first keys, then one
//! chunk's key array; neither touches the items until the match.
//!
//! Invariants: chunks are non-empty and ordered by key; equal keys never
//! straddle two chunks; `firsts[i]` is `chunks[i].keys[0]`.

use std::fmt;
use std::sync::Arc;

/// Chunks split when they grow past this many items.
const MAX_CHUNK: usize = 256;

/// An item with a sort key.
pub(crate) trait Keyed: Clone {
    fn key(&self) -> u64;
}

#[derive(Clone)]
struct Chunk<T> {
    keys: Vec<u64>,
    items: Vec<T>,
}

impl<T: Keyed> Chunk<T> {
    fn new(items: Vec<T>) -> Arc<Self> {
        Arc::new(Chunk { keys: items.iter().map(Keyed::key).collect(), items })
    }

    /// Index of the first item whose key is `key`, if any.
    fn first_equal(&self, key: u64) -> Option<usize> {
        let i = self.keys.partition_point(|k| *k < key);
        (self.keys.get(i) == Some(&key)).then_some(i)
    }
}

/// A sorted, chunked, copy-on-write table.
#[derive(Clone)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Arc<Chunk<T>>>,
    firsts: Vec<u64>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new(), firsts: Vec::new(), len: 0 }
    }
}

impl<T: Keyed> Chunked<T> {
    /// A table of `items` in any order.
    pub(crate) fn from_items(mut items: Vec<T>) -> Self {
        items.sort_by_key(Keyed::key);
        let mut table = Chunked { chunks: split(items), ..Chunked::default() };
        table.reindex();
        table
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.items.iter())
    }

    /// The chunk that holds `key` if any does: the last one whose first key is at most `key`.
    fn chunk_of(&self, key: u64) -> Option<usize> {
        self.firsts.partition_point(|f| *f <= key).checked_sub(1)
    }

    /// The last item whose key is at most `key`.
    pub(crate) fn at_or_below(&self, key: u64) -> Option<&T> {
        let chunk = &self.chunks[self.chunk_of(key)?];
        // The chunk's first key is at most `key`, so the count is at least 1.
        Some(&chunk.items[chunk.keys.partition_point(|k| *k <= key) - 1])
    }

    /// The first item with key `key` for which `matches` holds.
    pub(crate) fn find(&self, key: u64, matches: impl Fn(&T) -> bool) -> Option<&T> {
        let chunk = &self.chunks[self.chunk_of(key)?];
        let start = chunk.first_equal(key)?;
        let equal = chunk.keys[start..].iter().take_while(|k| **k == key);
        equal.zip(&chunk.items[start..]).map(|(_, t)| t).find(|t| matches(t))
    }

    /// Like [`Self::find`], for changing the item in place (its key must not
    /// change). Copies the item's chunk if another snapshot shares it.
    pub(crate) fn find_mut(&mut self, key: u64, matches: impl Fn(&T) -> bool) -> Option<&mut T> {
        let c = self.chunk_of(key)?;
        let start = self.chunks[c].first_equal(key)?;
        let offset = self.chunks[c].items[start..]
            .iter()
            .zip(&self.chunks[c].keys[start..])
            .take_while(|(_, k)| **k == key)
            .position(|(t, _)| matches(t))?;
        Some(&mut Arc::make_mut(&mut self.chunks[c]).items[start + offset])
    }

    /// Replaces, for each of `items`, the first item with its key for which
    /// `same` holds, or inserts it if there is none (the new ones in one pass).
    pub(crate) fn upsert_all(&mut self, items: Vec<T>, same: impl Fn(&T, &T) -> bool) {
        let mut fresh = Vec::new();
        for item in items {
            match self.find_mut(item.key(), |t| same(t, &item)) {
                Some(slot) => *slot = item,
                None => fresh.push(item),
            }
        }
        self.insert(fresh);
    }

    /// Inserts `items` (any order), copying only the chunks they land in.
    pub(crate) fn insert(&mut self, mut items: Vec<T>) {
        if items.is_empty() {
            return;
        }
        items.sort_by_key(Keyed::key);
        if self.chunks.is_empty() {
            *self = Chunked::from_items(items);
            return;
        }
        let mut chunks = Vec::with_capacity(self.chunks.len() + 1);
        let mut rest = items.as_slice();
        for (c, chunk) in self.chunks.iter().enumerate() {
            // Items below the next chunk's first key belong here (the first chunk also takes
            // those below its own first key, the last chunk everything left).
            let take = match self.firsts.get(c + 1) {
                Some(next) => rest.partition_point(|t| t.key() < *next),
                None => rest.len(),
            };
            if take == 0 {
                chunks.push(chunk.clone());
                continue;
            }
            chunks.extend(split(merge(&chunk.items, &rest[..take])));
            rest = &rest[take..];
        }
        self.chunks = chunks;
        self.reindex();
    }

    /// Drops the items for which `drop` holds, copying only the chunks that
    /// hold one. Reads every item: for rare changes (reclaiming a unit).
    pub(crate) fn remove_where(&mut self, drop: impl Fn(&T) -> bool) {
        let mut chunks = Vec::with_capacity(self.chunks.len());
        for chunk in &self.chunks {
            if !chunk.items.iter().any(&drop) {
                chunks.push(chunk.clone());
                continue;
            }
            let items: Vec<T> = chunk.items.iter().filter(|t| !drop(t)).cloned().collect();
            if !items.is_empty() {
                chunks.push(Chunk::new(items));
            }
        }
        self.chunks = chunks;
        self.reindex();
    }

    fn reindex(&mut self) {
        self.firsts = self.chunks.iter().map(|c| c.keys[0]).collect();
        self.len = self.chunks.iter().map(|c| c.items.len()).sum();
    }
}

/// `a` and `b` (both sorted) merged; on equal keys `a`'s items come first.
fn merge<T: Keyed>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j].key() < a[i].key() {
            out.push(b[j].clone());
            j += 1;
        } else {
            out.push(a[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Sorted `items` as chunks of at most [`MAX_CHUNK`] (of about equal size),
/// never splitting equal keys (a chunk is larger only if one key fills it).
fn split<T: Keyed>(items: Vec<T>) -> Vec<Arc<Chunk<T>>> {
    if items.len() <= MAX_CHUNK {
        return if items.is_empty() { Vec::new() } else { vec![Chunk::new(items)] };
    }
    let pieces = items.len().div_ceil(MAX_CHUNK);
    let size = items.len().div_ceil(pieces);
    let mut chunks = Vec::with_capacity(pieces);
    let mut rest = items;
    while rest.len() > size {
        // Split before a run of equal keys, or after it if it starts the piece.
        let mut at = size;
        while at > 0 && rest[at].key() == rest[at - 1].key() {
            at -= 1;
        }
        if at == 0 {
            at = size;
            while at < rest.len() && rest[at].key() == rest[at - 1].key() {
                at += 1;
            }
        }
        let tail = rest.split_off(at);
        chunks.push(Chunk::new(rest));
        rest = tail;
    }
    if !rest.is_empty() {
        chunks.push(Chunk::new(rest));
    }
    chunks
}

impl<T: Keyed + PartialEq> PartialEq for Chunked<T> {
    /// Equal contents, however they are chunked.
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Keyed + Eq> Eq for Chunked<T> {}

impl<T: Keyed + fmt::Debug> fmt::Debug for Chunked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A name's key in a table of named items (FNV-1a; equal keys of different
/// names are told apart by comparing names).
pub(crate) fn name_key(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Item(u64, u32);

    impl Keyed for Item {
        fn key(&self) -> u64 {
            self.0
        }
    }

    fn check(table: &Chunked<Item>, model: &[Item]) {
        let mut sorted = model.to_vec();
        sorted.sort_by_key(|i| i.0);
        let items: Vec<&Item> = table.iter().collect();
        assert_eq!(items.len(), table.len());
        assert_eq!(items.iter().map(|i| i.0).collect::<Vec<_>>(), sorted.iter().map(|i| i.0).collect::<Vec<_>>());
        for c in &table.chunks {
            assert!(!c.items.is_empty() && c.items.len() <= MAX_CHUNK, "chunk of {}", c.items.len());
        }
        for w in table.chunks.windows(2) {
            assert!(w[0].keys.last() < w[1].keys.first(), "equal keys straddle chunks");
        }
        let probes = sorted.iter().step_by(7).flat_map(|i| [i.0.saturating_sub(1), i.0, i.0 + 1]).chain([0, u64::MAX]);
        for p in probes {
            let below = sorted[..sorted.partition_point(|i| i.0 <= p)].last().map(|i| i.0);
            assert_eq!(table.at_or_below(p).map(|i| i.0), below, "at_or_below({p})");
            let equal = &sorted[sorted.partition_point(|i| i.0 < p)..sorted.partition_point(|i| i.0 <= p)];
            for tag in [0, 1, 2] {
                let want = equal.iter().find(|i| i.1 == tag);
                assert_eq!(table.find(p, |i| i.1 == tag).is_some(), want.is_some(), "find({p}, {tag})");
            }
        }
    }

    #[test]
    fn inserts_upserts_and_removals_agree_with_a_sorted_vector() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut table = Chunked::default();
        let mut model: Vec<Item> = Vec::new();
        for round in 0..60 {
            let snapshot = table.clone();
            let snapshot_model = model.clone();
            // Batches of ascending addresses (as publishes add them), plus a few
            // random and duplicate keys.
            let base = round * 1_000 + next() % 500;
            let batch: Vec<Item> = (0..next() % 700)
                .map(|i| match next() % 10 {
                    0 => Item(next() % 70_000, (next() % 3) as u32),
                    1 => Item(base, (next() % 3) as u32),
                    _ => Item(base + i * 3, 0),
                })
                .collect();
            model.extend(batch.iter().cloned());
            table.insert(batch);
            check(&table, &model);
            let key = model[(next() as usize) % model.len()].0;
            let item = Item(key, 1);
            match model.iter().position(|i| i.0 == key && i.1 == 1) {
                Some(p) => model[p] = item.clone(),
                None => model.push(item.clone()),
            }
            table.upsert_all(vec![item], |a, b| a.1 == b.1);
            check(&table, &model);
            if round % 7 == 6 {
                let (s, e) = (next() % 60_000, next() % 60_000);
                let drop = |i: &Item| i.1 == 2 || (s..e).contains(&i.0);
                model.retain(|i| !drop(i));
                table.remove_where(drop);
                check(&table, &model);
            }
            // The previous snapshot is unchanged by anything done to the new one.
            check(&snapshot, &snapshot_model);
        }
        assert!(table.chunks.len() > 10, "the test exercises splits ({} chunks)", table.chunks.len());
    }

    #[test]
    fn an_insert_copies_only_the_chunks_it_touches() {
        let table = Chunked::from_items((0..10_000).map(|i| Item(i * 16, 0)).collect());
        let mut next = table.clone();
        next.insert(vec![Item(10_000 * 16, 0)]);
        let shared = table.chunks.iter().zip(&next.chunks).filter(|(a, b)| Arc::ptr_eq(a, b)).count();
        assert_eq!(shared, table.chunks.len() - 1);
    }
}
