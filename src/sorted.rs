//! A map kept as a sorted `Vec` of pairs: the same ordered iteration as `BTreeMap`, for the
//! few entries the SDK's maps hold (connections of one page, subscriptions of one relay link,
//! requests in flight). It exists for the wasm bundle: every `BTreeMap<K, V>` instantiates
//! the B-tree's node code (split, merge, steal) once per key and value type, ~4 KiB each
//! before compression, where this map is a binary search and a `Vec` insert or remove.
//! Lookups are O(log n), inserts and removals O(n): right for tens or hundreds of entries,
//! not for a server's tables (the relay does not use it). The SDK's code holds no
//! `HashMap` either: with this map everywhere, hashbrown and SipHash leave the wasm
//! (−18 KB of wasm, −8.9 KB gzip on the dApp entry when the last ones went).

/// An ordered map over a sorted `Vec<(K, V)>`; keys are unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value of `key`, mutably.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// The value of `key`, inserted as `V::default()` when absent.
    pub fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, V::default()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Removes `key`; returns its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// Removes and returns the entry with the smallest key.
    pub fn pop_first(&mut self) -> Option<(K, V)> {
        (!self.entries.is_empty()).then(|| self.entries.remove(0))
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Keys in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Values in ascending key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Values in ascending key order, mutably.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Entries in ascending key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Keeps only the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// Removes every entry and returns them in ascending key order.
    pub fn drain(&mut self) -> std::vec::IntoIter<(K, V)> {
        std::mem::take(&mut self.entries).into_iter()
    }

    /// The values in ascending key order, consuming the map.
    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.entries.into_iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::SortedMap;
    use std::collections::BTreeMap;

    /// The same operations on a `BTreeMap` and a `SortedMap` give the same answers and the
    /// same order, for a pseudo-random sequence of inserts, removals and pops.
    #[test]
    fn behaves_like_a_btreemap() {
        let mut ours = SortedMap::new();
        let mut theirs = BTreeMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = x % 64;
            match x % 8 {
                0..=2 => assert_eq!(ours.insert(key, step), theirs.insert(key, step)),
                7 if step % 97 == 0 => {
                    ours.retain(|k, v| (k + *v) % 3 != 0);
                    theirs.retain(|k, v| (k + *v) % 3 != 0);
                }
                3 | 4 => assert_eq!(ours.remove(&key), theirs.remove(&key)),
                5 => assert_eq!(ours.pop_first(), theirs.pop_first()),
                _ => {
                    *ours.get_or_default(key) += 1;
                    *theirs.entry(key).or_default() += 1;
                }
            }
            assert_eq!(ours.len(), theirs.len());
            assert_eq!(ours.get(&key), theirs.get(&key));
            assert_eq!(ours.contains_key(&key), theirs.contains_key(&key));
        }
        assert!(ours.iter().eq(theirs.iter()));
        assert!(ours.keys().eq(theirs.keys()));
        assert!(ours.values().eq(theirs.values()));
        let copy = ours.clone();
        assert!(copy.into_values().eq(theirs.values().copied()));
        assert!(ours.drain().eq(std::mem::take(&mut theirs).into_iter()));
        assert!(ours.is_empty());
        ours.insert(1, 1);
        ours.clear();
        assert!(ours.is_empty());
    }
}
