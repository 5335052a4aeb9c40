//! `<data-dir>/state.json`, where versions before the SQLite store kept the engine's state.
//! The SQLite store imports that file once; a file that cannot be read stops start-up with an
//! error that names it, and is never overwritten.

use super::{PersistedState, StoreError};
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// Creates the data directory if needed.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(data_dir).map_err(|e| StoreError::file(data_dir, "cannot create the data directory", e))?;
        Ok(StateFile { path: data_dir.join("state.json") })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<PersistedState, StoreError> {
        match fs::read(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PersistedState::default()),
            Err(e) => Err(StoreError::file(&self.path, "cannot read", e)),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                StoreError::Corrupt(format!(
                    "{}:{}:{}: {e} (the file was left as it is; fix or move it away)",
                    self.path.display(),
                    e.line(),
                    e.column()
                ))
            }),
        }
    }

    /// Writes the file as earlier versions did (atomically): for tests of the import.
    #[cfg(test)]
    pub fn save(&self, state: &PersistedState) -> Result<(), StoreError> {
        use std::fs::File;
        use std::io::Write;
        let tmp = self.path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(state).expect("state serialises");
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent() {
                File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| StoreError::file(&self.path, "cannot write", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Level, Override};

    #[test]
    fn round_trips_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::open(&dir.path().join("nested")).unwrap();
        assert_eq!(file.load().unwrap(), PersistedState::default());
        let state = PersistedState {
            version: 17,
            operator_override: Some(Override { level: Level::PartialOutage, message: "db <slow>".into(), set_at_ms: 5 }),
        };
        file.save(&state).unwrap();
        assert_eq!(StateFile::open(&dir.path().join("nested")).unwrap().load().unwrap(), state);
        assert!(!file.path().with_extension("json.tmp").exists());
    }

    #[test]
    fn a_corrupt_file_is_reported_with_its_path_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::open(dir.path()).unwrap();
        fs::write(file.path(), b"{\"version\": 3,\n oops").unwrap();
        let err = file.load().unwrap_err();
        assert!(err.to_string().contains("state.json:2:"), "{err}");
        assert_eq!(fs::read(file.path()).unwrap(), b"{\"version\": 3,\n oops");
    }
}
