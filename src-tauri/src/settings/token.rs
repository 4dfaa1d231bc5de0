//! The bearer token, in a file only the user can read (mode 0600 in a 0700 dir).
//!
//! The issue asks for the OS keyring where there is one; on the Linux machines we ship and
//! test on there is no Secret Service on the session bus, so the file is what runs here. The
//! store is this one small type so a keyring backend can slot in beside it.

use std::{
    fmt,
    path::{Path, PathBuf},
};

#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("cannot store the token in {path}: {source}")]
    Write { path: PathBuf, #[source] source: std::io::Error },
    #[error("the token is empty; paste the token from `lockbox token --user <id>`")]
    Empty,
}

pub struct TokenStore {
    path: PathBuf,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl TokenStore {
    pub fn new(dir: &Path) -> Self {
        Self { path: dir.join("secrets").join("token") }
    }

    pub fn load(&self) -> Option<String> {
        std::fs::read_to_string(&self.path).ok().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
    }

    pub fn save(&self, token: &str) -> Result<(), TokenStoreError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(TokenStoreError::Empty);
        }
        let write = |source| TokenStoreError::Write { path: self.path.clone(), source };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write)?;
        restrict(dir, 0o700).map_err(write)?;
        let tmp = self.path.with_extension("tmp");
        // Create with 0600 before writing, so the token is never readable by others.
        write_private(&tmp, token.as_bytes()).map_err(write)?;
        std::fs::rename(&tmp, &self.path).map_err(write)
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_is_private_to_the_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        assert_eq!(store.load(), None);
        store.save(" abc.def.ghi \n").unwrap();
        assert_eq!(store.load().as_deref(), Some("abc.def.ghi"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets/token")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(dir.path().join("secrets")).unwrap().permissions().mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
        assert!(matches!(store.save("  "), Err(TokenStoreError::Empty)));
        assert!(!format!("{store:?}").contains("abc"), "Debug never shows the token");
    }
}
