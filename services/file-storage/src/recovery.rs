//! Startup recovery: what a crash can leave behind is removed before the service serves.
//! - a temp file whose upload row was never inserted (crash inside creation);
//! - a blob renamed into the store whose completing transaction never committed.

use std::sync::Arc;

use crate::{
    ServeError,
    blob::BlobStore,
    meta::MetaStore,
    upload::Uploads,
};

/// Removes orphan temp files and unreferenced blobs; returns how many of each.
pub async fn sweep(uploads: &Uploads, meta: Arc<dyn MetaStore>, blobs: Arc<dyn BlobStore>) -> Result<(usize, usize), ServeError> {
    let parts = uploads.remove_orphan_parts().await?;
    let removed = tokio::task::spawn_blocking(move || -> Result<usize, ServeError> {
        let mut removed = 0;
        for digest in blobs.digests()? {
            if !meta.blob_referenced(&digest)? {
                blobs.remove(&digest)?;
                removed += 1;
            }
        }
        Ok(removed)
    })
    .await
    .map_err(ServeError::Recovery)??;
    Ok((parts, removed))
}
