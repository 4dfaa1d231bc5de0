//! tus 1.0 uploads to the FileStorageService, with resume and progress callbacks.
