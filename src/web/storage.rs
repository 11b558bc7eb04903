//! Where records live: `localStorage` (sessions survive reloads) or memory (private modes,
//! tests). Writes can fail (quota, disabled storage): the hub then sends nothing the failed
//! record accounts for, the caller gets `storage_full`, and the session goes on from its
//! saved state.

use crate::sorted::SortedMap;
use std::cell::RefCell;

use crate::protocol::STORE_PREFIX;

/// A key-value store for records.
#[derive(Debug)]
pub enum Store {
    /// The page's `localStorage`.
    Local(web_sys::Storage),
    /// In memory only.
    Memory(RefCell<SortedMap<String, String>>),
}

impl Store {
    /// `localStorage` when asked for and available, else memory.
    pub fn open(kind: &str) -> Self {
        if kind != "memory"
            && let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten())
        {
            return Self::Local(storage);
        }
        Self::Memory(RefCell::new(SortedMap::new()))
    }

    /// True for `localStorage`, which every tab of the origin shares.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Local(_))
    }

    /// Writes; false when the browser refused (quota exceeded or storage disabled).
    pub fn set(&self, key: &str, value: &str) -> bool {
        match self {
            Self::Local(s) => s.set_item(key, value).is_ok(),
            Self::Memory(m) => {
                m.borrow_mut().insert(key.to_owned(), value.to_owned());
                true
            }
        }
    }

    /// Deletes.
    pub fn remove(&self, key: &str) {
        match self {
            Self::Local(s) => {
                let _ = s.remove_item(key);
            }
            Self::Memory(m) => {
                m.borrow_mut().remove(key);
            }
        }
    }

    /// Every walletwire record: `(key, value)`.
    pub fn records(&self) -> Vec<(String, String)> {
        match self {
            Self::Local(s) => {
                let len = s.length().unwrap_or(0);
                (0..len)
                    .filter_map(|i| s.key(i).ok().flatten())
                    .filter(|k| k.starts_with(STORE_PREFIX))
                    .filter_map(|k| s.get_item(&k).ok().flatten().map(|v| (k, v)))
                    .collect()
            }
            Self::Memory(m) => m
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// The store as the hub's synchronous [`RecordStore`](crate::relay::hub::RecordStore).
pub struct Shared(pub std::rc::Rc<Store>);

impl crate::relay::hub::RecordStore for Shared {
    fn store(&mut self, key: &str, record: &str) -> bool {
        self.0.set(key, record)
    }

    fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }
}
