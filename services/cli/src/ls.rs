//! `lockbox ls`: the user's files, newest first.

use std::process::ExitCode;

use lockbox_client::files::FilesClient;

pub async fn run(url: &str, token: &str) -> ExitCode {
    let files = match FilesClient::new(url, token) {
        Ok(client) => client.list_all().await,
        Err(error) => Err(error),
    };
    match files {
        Ok(files) => {
            for f in files {
                println!("{}  {:>12}  {}  {}  {}", f.id, f.size, f.created_at.format("%Y-%m-%d %H:%M:%S"), &f.sha256[..12.min(f.sha256.len())], f.name);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("lockbox ls: {error}");
            ExitCode::FAILURE
        }
    }
}
