//! The user's settings.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::toast::Language;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The FileStorageService, e.g. `http://127.0.0.1:8710`.
    pub file_storage_url: String,
    /// The NotificationService, e.g. `http://127.0.0.1:8720`.
    pub notification_url: String,
    pub toasts_enabled: bool,
    /// Silences toasts; the inbox still fills.
    pub do_not_disturb: bool,
    /// `None`: follow the OS locale.
    pub language: Option<Language>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            file_storage_url: "http://127.0.0.1:8710".into(),
            notification_url: "http://127.0.0.1:8720".into(),
            toasts_enabled: true,
            do_not_disturb: false,
            language: None,
        }
    }
}

impl Settings {
    /// Defaults, then the environment (`LOCKBOX_FS_URL`, `LOCKBOX_NS_URL`) — how the run command
    /// points the app at the services it started.
    pub fn from_env_defaults() -> Self {
        let mut s = Self::default();
        if let Ok(url) = std::env::var("LOCKBOX_FS_URL") {
            s.file_storage_url = url;
        }
        if let Ok(url) = std::env::var("LOCKBOX_NS_URL") {
            s.notification_url = url;
        }
        s
    }

    pub fn effective_language(&self) -> Language {
        self.language.unwrap_or_else(Language::from_os)
    }

    /// Checks what the user typed before it is saved.
    pub fn validate(&self) -> Result<(), SettingsError> {
        for (field, url) in [("file storage URL", &self.file_storage_url), ("notification URL", &self.notification_url)] {
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                return Err(SettingsError::BadUrl { field, url: url.clone() });
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the {field} must start with http:// or https:// (got {url:?})")]
    BadUrl { field: &'static str, url: String },
    #[error("cannot save settings to {path}: {source}")]
    Write { path: PathBuf, #[source] source: std::io::Error },
    #[error("settings file {path} is damaged ({source}); it was left alone and defaults are used")]
    Parse { path: PathBuf, #[source] source: serde_json::Error },
}

/// Settings on disk. A missing file means defaults; a damaged one is reported, not overwritten
/// until the user saves.
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    pub fn new(dir: &Path) -> Self {
        Self { path: dir.join("settings.json") }
    }

    pub fn load(&self, defaults: Settings) -> Result<Settings, SettingsError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| SettingsError::Parse { path: self.path.clone(), source }),
            Err(_) => Ok(defaults),
        }
    }

    pub fn save(&self, settings: &Settings) -> Result<(), SettingsError> {
        settings.validate()?;
        let write = |e| SettingsError::Write { path: self.path.clone(), source: e };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(settings).unwrap_or_default();
        std::fs::write(&tmp, bytes).map_err(write)?;
        std::fs::rename(&tmp, &self.path).map_err(write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_settings_load_back_and_bad_urls_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::new(dir.path());
        assert_eq!(file.load(Settings::default()).unwrap(), Settings::default());
        let mine = Settings { do_not_disturb: true, language: Some(Language::Nl), ..Settings::default() };
        file.save(&mine).unwrap();
        assert_eq!(file.load(Settings::default()).unwrap(), mine);
        let bad = Settings { notification_url: "ftp://x".into(), ..Settings::default() };
        assert!(matches!(file.save(&bad), Err(SettingsError::BadUrl { .. })));
        std::fs::write(dir.path().join("settings.json"), b"{nope").unwrap();
        assert!(matches!(file.load(Settings::default()), Err(SettingsError::Parse { .. })));
    }
}
