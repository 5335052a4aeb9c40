//! The engine's durable state (the reserved snapshot version and the operator override), and
//! `<data-dir>/state.json`, where versions before the SQLite store kept it. The store imports
//! that file once (see `store`); a file that cannot be read stops start-up with an error that
//! names it, and is never overwritten.

use crate::status::Override;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedState {
    pub version: u64,
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub operator_override: Option<Override>,
}

#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// Creates the data directory if needed.
    pub fn open(data_dir: &Path) -> Result<Self, String> {
        fs::create_dir_all(data_dir).map_err(|e| {
            format!("cannot create data directory {}: {e}", data_dir.display())
        })?;
        Ok(StateFile { path: data_dir.join("state.json") })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<PersistedState, String> {
        match fs::read(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PersistedState::default()),
            Err(e) => Err(format!("{}: cannot read: {e}", self.path.display())),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "{}:{}:{}: {e} (the file was left as it is; fix or move it away)",
                    self.path.display(),
                    e.line(),
                    e.column()
                )
            }),
        }
    }

    /// Writes the file as earlier versions did (atomically): for tests of the import.
    #[cfg(test)]
    pub fn save(&self, state: &PersistedState) -> Result<(), String> {
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
        write().map_err(|e| format!("{}: cannot write: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Level;

    #[test]
    fn round_trips_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::open(&dir.path().join("nested")).unwrap();
        assert_eq!(file.load().unwrap(), PersistedState::default());
        let state = PersistedState {
            version: 17,
            operator_override: Some(Override {
                level: Level::PartialOutage,
                message: "db <slow>".into(),
                set_at_ms: 5,
            }),
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
        assert!(err.contains("state.json:2:"), "{err}");
        assert_eq!(fs::read(file.path()).unwrap(), b"{\"version\": 3,\n oops");
    }
}
