//! The temp file of an upload in progress: `<data>/uploads/<upload id>.part`, on the same
//! file system as the blob store so finishing is a rename.

use std::{
    io::{self, Read},
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::UploadError;

pub fn path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(format!("{id}.part"))
}

pub async fn create(path: &Path) -> Result<(), UploadError> {
    tokio::fs::File::create(path).await.map_err(UploadError::io("creating an upload temp file"))?;
    Ok(())
}

pub async fn remove(path: &Path) -> Result<(), UploadError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(UploadError::io("removing an upload temp file")(e)),
        _ => Ok(()),
    }
}

/// SHA-256 over the first `offset` bytes of the temp file, for an upload whose in-memory
/// state is gone (after a restart). Returns the hash and how many bytes were really there.
pub async fn rehash(path: PathBuf, offset: u64) -> Result<(Sha256, u64), UploadError> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(UploadError::io("opening an upload temp file"))?;
        let mut reader = file.take(offset);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut read = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(UploadError::io("rehashing an upload temp file"))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            read += n as u64;
        }
        Ok((hasher, read))
    })
    .await?
}

/// Removes `*.part` files (and stray files) in `dir` whose upload is not in `known`.
pub async fn remove_unknown(dir: &Path, known: &[Uuid]) -> Result<usize, UploadError> {
    let mut entries = tokio::fs::read_dir(dir).await.map_err(UploadError::io("listing upload temp files"))?;
    let mut removed = 0;
    while let Some(entry) = entries.next_entry().await.map_err(UploadError::io("listing upload temp files"))? {
        let name = entry.file_name();
        let id = name.to_str().and_then(|n| n.strip_suffix(".part")).and_then(|n| Uuid::parse_str(n).ok());
        if id.is_some_and(|id| known.contains(&id)) {
            continue;
        }
        remove(&entry.path()).await?;
        removed += 1;
    }
    Ok(removed)
}
