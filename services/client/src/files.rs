//! The FileStorageService's files API (list, get, download, delete).
