//! Dropped paths to files: files as they are, folders walked (their files named relative to
//! the folder's parent, so `photos/2026/a.jpg` keeps its folder in the name).

use std::path::{Path, PathBuf};

/// A file to upload and the name it is shown under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
}

/// Walks `paths`; unreadable entries are reported, not fatal.
pub fn walk(paths: &[PathBuf]) -> (Vec<Found>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        visit(path, &base, &mut found, &mut problems, 0);
    }
    (found, problems)
}

fn visit(path: &Path, base: &Path, found: &mut Vec<Found>, problems: &mut Vec<String>, depth: usize) {
    // Symlinked folders could loop; a real tree this deep is not something people drop.
    if depth > 64 {
        problems.push(format!("{}: folder nesting too deep, skipped", path.display()));
        return;
    }
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            return;
        }
    };
    if meta.is_dir() {
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(format!("{}: {e}", path.display()));
                return;
            }
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            visit(&child, base, found, problems, depth + 1);
        }
    } else if meta.is_file() {
        let name = path.strip_prefix(base).unwrap_or(path).to_string_lossy().replace('\\', "/");
        found.push(Found { path: path.to_path_buf(), name, size: meta.len() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_walked_and_keep_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("photos");
        std::fs::create_dir_all(folder.join("2026")).unwrap();
        std::fs::write(folder.join("2026/b.jpg"), b"bb").unwrap();
        std::fs::write(folder.join("a.jpg"), b"a").unwrap();
        let loose = dir.path().join("notes.txt");
        std::fs::write(&loose, b"n").unwrap();
        let (found, problems) = walk(&[folder, loose, dir.path().join("missing")]);
        let names: Vec<_> = found.iter().map(|f| (f.name.as_str(), f.size)).collect();
        assert_eq!(names, [("photos/2026/b.jpg", 2), ("photos/a.jpg", 1), ("notes.txt", 1)]);
        assert_eq!(problems.len(), 1);
    }
}
