//! The one error type of the test support: what failed, and what to check.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error("cannot run {program}: {source}; is it installed (scripts/lib/common.sh installs it)?")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("timed out after {secs:.1} s waiting for {what}")]
    Timeout { what: String, secs: f64 },
    #[error("file system error at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the service database {path}: {source}")]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("HTTP request to {url} failed: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("AMQP error ({what}): {source}; is the broker under test running?")]
    Amqp {
        what: String,
        #[source]
        source: lapin::Error,
    },
}

impl SupportError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| SupportError::Io { path, source }
    }

    pub fn timeout(what: impl Into<String>, limit: std::time::Duration) -> Self {
        SupportError::Timeout { what: what.into(), secs: limit.as_secs_f64() }
    }
}
