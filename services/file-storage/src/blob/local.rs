//! Blobs as files under `<data>/blobs/<first two hex digits>/<sha256>`.

use std::{
    fs::{self, File},
    io,
    path::{Path, PathBuf},
};

use super::{BlobError, BlobStore};

/// A [`BlobStore`] on the local disk. Temp files must live on the same filesystem so the
/// final rename is atomic.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    pub fn open(root: PathBuf) -> Result<Self, BlobError> {
        fs::create_dir_all(&root).map_err(BlobError::io("creating the blob directory"))?;
        Ok(Self { root })
    }

    fn path(&self, sha256: &str) -> Result<PathBuf, BlobError> {
        // The digest is computed by us, but never let a string become a path unchecked.
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(BlobError::BadDigest(sha256.to_owned()));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }
}

impl LocalBlobStore {
    /// Renames `temp` into place (not yet synced); whether it is new, and its directory.
    fn rename_in(&self, temp: &Path, sha256: &str) -> Result<(bool, PathBuf), BlobError> {
        let path = self.path(sha256)?;
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        if path.exists() {
            fs::remove_file(temp).map_err(BlobError::io("removing a duplicate upload"))?;
            return Ok((false, dir));
        }
        fs::create_dir_all(&dir).map_err(BlobError::io("creating a blob shard directory"))?;
        fs::rename(temp, &path).map_err(BlobError::io("renaming an upload into the blob store"))?;
        Ok((true, dir))
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl BlobStore for LocalBlobStore {
    fn put(&self, temp: &Path, sha256: &str) -> Result<bool, BlobError> {
        self.put_many(&[(temp, sha256)]).pop().unwrap_or(Ok(false))
    }

    fn put_many(&self, items: &[(&Path, &str)]) -> Vec<Result<bool, BlobError>> {
        // Rename every new blob first, then sync each shard directory once: the renames are
        // durable only once their directory entries are, and one fsync covers a whole shard.
        let mut results: Vec<Result<(bool, PathBuf), BlobError>> =
            items.iter().map(|(temp, sha256)| self.rename_in(temp, sha256)).collect();
        let mut dirs: Vec<PathBuf> = results.iter().filter_map(|r| r.as_ref().ok()).filter(|(fresh, _)| *fresh).map(|(_, d)| d.clone()).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            if let Err(error) = sync_dir(&dir) {
                for result in results.iter_mut().filter(|r| r.as_ref().is_ok_and(|(fresh, d)| *fresh && *d == dir)) {
                    let copy = io::Error::new(error.kind(), error.to_string());
                    *result = Err(BlobError::io("syncing the blob directory")(copy));
                }
            }
        }
        results.into_iter().map(|r| r.map(|(fresh, _)| fresh)).collect()
    }

    fn open(&self, sha256: &str) -> Result<File, BlobError> {
        File::open(self.path(sha256)?).map_err(BlobError::io("opening a blob"))
    }

    fn digests(&self) -> Result<Vec<String>, BlobError> {
        let mut out = Vec::new();
        for shard in fs::read_dir(&self.root).map_err(BlobError::io("listing the blob store"))? {
            let shard = shard.map_err(BlobError::io("listing the blob store"))?.path();
            if !shard.is_dir() {
                continue;
            }
            for blob in fs::read_dir(&shard).map_err(BlobError::io("listing a blob shard"))? {
                let name = blob.map_err(BlobError::io("listing a blob shard"))?.file_name();
                if let Some(name) = name.to_str().filter(|n| self.path(n).is_ok()) {
                    out.push(name.to_owned());
                }
            }
        }
        Ok(out)
    }

    fn remove(&self, sha256: &str) -> Result<(), BlobError> {
        match fs::remove_file(self.path(sha256)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(BlobError::io("removing a blob")(e)),
            _ => Ok(()),
        }
    }
}
