//! The sessions file: every record the core asks to persist (`Store` / `Remove` outputs), as
//! one JSON object `{"v":1,"records":{key: record}}`.
//!
//! Writes are atomic (a temporary file in the same directory, then `rename`), so a crash
//! leaves either the old or the new file, never half of one. Each change re-reads the file
//! first and touches only its own key, so a `disconnect` run next to a serving wallet does
//! not wipe the other's records. Unreadable files and records are reported and skipped,
//! never a crash (`docs/PROTOCOL.md` §10).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use walletwire::protocol::{Record, RecordError, SessionRecord};

/// Version of the file layout.
const FILE_VERSION: u64 = 1;

/// Errors reading or writing the sessions file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file system refused.
    #[error("sessions file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a sessions file of this version.
    #[error("sessions file {0} is corrupt or of another version")]
    Corrupt(PathBuf),
    /// Another process holds the data directory's lock (it is serving these sessions).
    #[error("{0} is in use by another walletwire-wallet process")]
    Busy(PathBuf),
}

/// An exclusive OS lock on a data directory (`<dir>/lock`), held until dropped or the process
/// ends (the OS releases it even after a crash). Only one process at a time may drive the
/// sessions stored there: two would send different frames under the same sequence numbers.
#[derive(Debug)]
pub struct DirLock {
    _file: fs::File,
}

impl DirLock {
    /// Takes the lock without waiting; [`StoreError::Busy`] if another process holds it.
    pub fn acquire(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("lock");
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(dir).map_err(io)?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(StoreError::Busy(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SessionsFile {
    v: u64,
    records: BTreeMap<String, String>,
}

/// The JSON sessions file.
#[derive(Debug, Clone)]
pub struct SessionStore {
    path: PathBuf,
}

/// A record that could not be used, with the reason (the caller deletes it).
#[derive(Debug)]
pub struct Unusable {
    /// Storage key.
    pub key: String,
    /// Why.
    pub error: RecordError,
}

impl SessionStore {
    /// The store at `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `<dir>/sessions.json`.
    pub fn in_dir(dir: &Path) -> Self {
        Self::new(dir.join("sessions.json"))
    }

    /// Where the file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn read(&self) -> Result<SessionsFile, StoreError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SessionsFile {
                    v: FILE_VERSION,
                    records: BTreeMap::new(),
                });
            }
            Err(e) => return Err(self.io(e)),
        };
        match serde_json::from_str::<SessionsFile>(&text) {
            Ok(file) if file.v == FILE_VERSION => Ok(file),
            _ => Err(StoreError::Corrupt(self.path.clone())),
        }
    }

    fn write(&self, file: &SessionsFile, durable: bool) -> Result<(), StoreError> {
        // A map of strings always serializes.
        let text = serde_json::to_string_pretty(file).expect("sessions file serializes");
        let write = if durable { write_atomic } else { write_replace };
        write(&self.path, text.as_bytes()).map_err(|e| self.io(e))
    }

    /// Every raw record, by key.
    pub fn raw(&self) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self.read()?.records)
    }

    /// Applies a batch of changes (`Some` = store, `None` = remove) in one atomic write. A
    /// corrupt file is replaced: its records were unusable anyway.
    pub fn apply(&self, changes: &[(String, Option<String>)]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut file = match self.read() {
            Err(StoreError::Corrupt(_)) => SessionsFile {
                v: FILE_VERSION,
                records: BTreeMap::new(),
            },
            other => other?,
        };
        // A session appearing or going away is synced to disk; a counter or position moving
        // on is not (two fsyncs cost 20-30 ms per frame on an ordinary disk). After a power
        // loss such a record may be a few frames behind: the peer then drops the reused
        // sequence numbers as replays and this side re-reads frames it had processed, which
        // the protocol tolerates (late responses are ignored). A crash of the process alone
        // loses nothing: the rename is atomic either way.
        let durable = changes
            .iter()
            .any(|(key, value)| value.is_none() || !file.records.contains_key(key));
        for (key, value) in changes {
            match value {
                Some(record) => file.records.insert(key.clone(), record.clone()),
                None => file.records.remove(key),
            };
        }
        self.write(&file, durable)
    }

    /// Decodes every record: the usable ones, and the ones to delete with the reason.
    pub fn load(&self, now: u64) -> Result<(Vec<Record>, Vec<Unusable>), StoreError> {
        let mut usable = Vec::new();
        let mut unusable = Vec::new();
        for (key, text) in self.raw()? {
            match Record::decode(&text, now) {
                Ok(record) => usable.push(record),
                Err(error) => unusable.push(Unusable { key, error }),
            }
        }
        Ok((usable, unusable))
    }

    /// The wallet's usable session records.
    pub fn sessions(&self, now: u64) -> Result<Vec<SessionRecord>, StoreError> {
        let (records, _) = self.load(now)?;
        Ok(records
            .into_iter()
            .filter_map(|r| match r {
                Record::Session(s) => Some(s),
                Record::Pending(_) => None,
            })
            .collect())
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, with
/// owner-only permissions (the file holds keys). The data is synced before the rename and the
/// directory after it, so after a power loss the file is the old or the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(path, bytes, true)
}

/// [`write_atomic`] without the syncs: atomic against a crash of the process, not against a
/// power loss.
pub fn write_replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(path, bytes, false)
}

fn replace(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).map_err(std::io::Error::other)?;
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let temp = dir.join(format!(".{name}.{suffix}.tmp"));
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_data()?;
        }
        fs::rename(&temp, path)?;
        #[cfg(unix)]
        if sync {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "walletwire-store-{name}-{}-{}",
            std::process::id(),
            crate::system::now_ms()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn store_and_remove_round_trip() {
        let dir = temp_dir("round-trip");
        let store = SessionStore::in_dir(&dir);
        assert!(store.raw().unwrap().is_empty());
        store
            .apply(&[
                ("a".into(), Some("1".into())),
                ("b".into(), Some("2".into())),
            ])
            .unwrap();
        store.apply(&[("a".into(), None)]).unwrap();
        let raw = store.raw().unwrap();
        assert_eq!(raw.len(), 1);
        assert_eq!(raw["b"], "2");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_data_directory_is_locked_by_one_holder_at_a_time() {
        let dir = temp_dir("lock");
        let first = DirLock::acquire(&dir).unwrap();
        // A second open file description conflicts like a second process would.
        assert!(matches!(DirLock::acquire(&dir), Err(StoreError::Busy(_))));
        drop(first);
        assert!(DirLock::acquire(&dir).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn garbage_records_and_files_are_reported_not_fatal() {
        let dir = temp_dir("garbage");
        let store = SessionStore::in_dir(&dir);
        store
            .apply(&[("walletwire:v1:session:x".into(), Some("{junk".into()))])
            .unwrap();
        let (usable, unusable) = store.load(0).unwrap();
        assert!(usable.is_empty());
        assert_eq!(unusable.len(), 1);
        fs::write(store.path(), "not json").unwrap();
        assert!(matches!(store.raw(), Err(StoreError::Corrupt(_))));
        // Writing over a corrupt file starts afresh.
        store.apply(&[("k".into(), Some("v".into()))]).unwrap();
        assert_eq!(store.raw().unwrap().len(), 1);
        let _ = fs::remove_dir_all(&dir);
    }
}
