//! One scenario's figures, as a JSON file per scenario in the report directory, so scenarios
//! running in separate test binaries never write the same file and the renderer reads them all.
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which size the suite runs at: `LOCKBOX_RELIABILITY=full` (the reliability command) or quick
/// (the default, part of the test command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Quick,
    Full,
}

impl Mode {
    pub fn from_env() -> Self {
        match std::env::var("LOCKBOX_RELIABILITY").as_deref() {
            Ok("full") => Mode::Full,
            _ => Mode::Quick,
        }
    }
}

/// `quick` in the test command, `full` under `LOCKBOX_RELIABILITY=full`.
pub fn scale(quick: u64, full: u64) -> u64 {
    match Mode::from_env() {
        Mode::Quick => quick,
        Mode::Full => full,
    }
}

/// The figures of one scenario run: the columns of `docs/RELIABILITY.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Short, stable name; also the file name of the record.
    pub scenario: String,
    pub mode: Mode,
    /// What load ran, e.g. "10 000 uploads of 1 KiB, 8 concurrent".
    pub load: String,
    /// What was done to the system, e.g. "broker stopped 3 s, then started".
    pub faults: String,
    pub uploads_accepted: u64,
    pub events_confirmed: u64,
    pub notifications_delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// From the fault's end to the system working again, where the scenario has one.
    #[serde(with = "opt_millis", default)]
    pub time_to_recover: Option<Duration>,
    /// Anything the numbers above do not say (refusals seen, memory, …).
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the reliability record {path}: {source}; check that the directory is writable or set LOCKBOX_RELIABILITY_OUT")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the reliability record {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the reliability record {path} is not valid JSON: {source}; delete it and run the scenario again")]
    Decode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Where records go: `LOCKBOX_RELIABILITY_OUT`, else `<target dir>/reliability`.
pub fn report_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LOCKBOX_RELIABILITY_OUT") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("reliability")
}

impl Record {
    /// Writes this record to `<report_dir>/<mode>/<scenario>.json`, replacing an earlier run's.
    pub fn write(&self) -> Result<PathBuf, ReportError> {
        let dir = report_dir().join(match self.mode {
            Mode::Quick => "quick",
            Mode::Full => "full",
        });
        let path = dir.join(format!("{}.json", self.scenario));
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
            std::fs::write(&path, json)
        };
        write().map_err(|source| ReportError::Write { path: path.clone(), source })?;
        Ok(path)
    }

    /// Every record in `dir`, sorted by scenario name.
    pub fn read_all(dir: &Path) -> Result<Vec<Record>, ReportError> {
        let read_err = |source| ReportError::Read { path: dir.to_path_buf(), source };
        let mut records = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).map_err(|source| ReportError::Read { path: path.clone(), source })?;
                let record = serde_json::from_slice(&bytes).map_err(|source| ReportError::Decode { path, source })?;
                records.push(record);
            }
        }
        records.sort_by(|a: &Record, b: &Record| a.scenario.cmp(&b.scenario));
        Ok(records)
    }
}

mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_through_its_file() {
        let dir = tempfile_dir();
        // SAFETY: this test is the only one in this binary touching the variable.
        unsafe { std::env::set_var("LOCKBOX_RELIABILITY_OUT", &dir) };
        let record = Record {
            scenario: "example".into(),
            mode: Mode::Quick,
            load: "1 upload".into(),
            faults: "none".into(),
            uploads_accepted: 1,
            events_confirmed: 1,
            notifications_delivered: 1,
            lost: 0,
            duplicated: 0,
            time_to_recover: Some(Duration::from_millis(1234)),
            notes: String::new(),
        };
        let path = record.write().expect("write");
        assert_eq!(path, dir.join("quick/example.json"));
        let back = Record::read_all(&dir.join("quick")).expect("read");
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].time_to_recover, Some(Duration::from_millis(1234)));
        assert_eq!(back[0].uploads_accepted, 1);
        std::fs::remove_dir_all(&dir).ok();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lockbox-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
