//! The commands the window may invoke, by area. Each returns a serializable error enum the UI
//! can show as is.

pub mod feed;
pub mod inbox;
pub mod upload;
pub mod settings;
