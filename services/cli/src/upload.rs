//! `lockbox upload`: tus uploads with a progress bar each; the client resumes after drops.

use std::{path::PathBuf, process::ExitCode};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lockbox_client::upload::{TusClient, Url};

pub struct Options {
    pub chunk_size: usize,
    pub quiet: bool,
    pub resume: Option<String>,
}

pub async fn run(url: &str, token: &str, options: Options, files: &[PathBuf]) -> ExitCode {
    let client = match TusClient::new(url, token) {
        Ok(client) => client.chunk_size(options.chunk_size),
        Err(error) => {
            eprintln!("lockbox upload: {error}");
            return ExitCode::from(2);
        }
    };
    let resume: Option<Url> = match (&options.resume, files.len()) {
        (None, _) => None,
        (Some(raw), 1) => match raw.parse() {
            Ok(url) => Some(url),
            Err(_) => {
                eprintln!("lockbox upload: --resume {raw:?} is not a URL");
                return ExitCode::from(2);
            }
        },
        (Some(_), _) => {
            eprintln!("lockbox upload: --resume continues one upload: give exactly one file");
            return ExitCode::from(2);
        }
    };
    let bars = MultiProgress::with_draw_target(if options.quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() });
    let style = ProgressStyle::with_template("{msg:24!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let mut failed = 0;
    for path in files {
        let bar = bars.add(ProgressBar::new(0).with_style(style.clone()));
        bar.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let progress = |p: lockbox_client::upload::Progress<'_>| {
            bar.set_length(p.total);
            bar.set_position(p.sent);
        };
        let result = match &resume {
            Some(url) => client.resume_file(path, url.clone(), progress).await,
            None => client.upload_file(path, progress).await,
        };
        match result {
            Ok(done) => {
                bar.finish();
                // stdout carries the results, stderr the bars, so scripts can capture one.
                println!("{}  {}  {}", done.file_id, done.sha256, path.display());
            }
            Err(error) => {
                bar.abandon();
                eprintln!("lockbox upload: {}: {error}", path.display());
                failed += 1;
            }
        }
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
