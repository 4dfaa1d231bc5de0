//! The setup the file storage crash scenarios share: the file storage binary (to SIGKILL
//! and restart), the notification service in-process, and the app of a new user connected
//! to it.
use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use lockbox_broker::{BrokerConfig, testing::delete_topology};

use crate::{
    SupportError,
    app::App,
    common::{new_user, token},
    procs::{Kind, ProcessConfig, ServiceProcess},
    services::{Notifications, notification_config, start_notifications},
};

pub struct FsCrashStack {
    pub fs: ServiceProcess,
    /// The file storage service's data dir.
    pub fs_dir: PathBuf,
    pub ns: Notifications,
    /// The new user's bearer token.
    pub token: String,
    pub app: App,
}

impl FsCrashStack {
    /// Everything under `dir`; the app is connected (within `limit`) when this returns.
    pub async fn start(dir: &Path, broker: &BrokerConfig, limit: Duration) -> Result<Self, SupportError> {
        let fs_dir = dir.join("file-storage");
        let fs = ServiceProcess::start(Kind::FileStorage, ProcessConfig { data_dir: &fs_dir, broker, extra: toml::Table::new() }).await?;
        let ns = start_notifications(notification_config(&dir.join("notification"), broker), None).await?;
        let user = new_user();
        let token = token(&user);
        let app = App::start_connected(&dir.join("app"), &user, &token, &ns.url(), limit).await?;
        Ok(Self { fs, fs_dir, ns, token, app })
    }

    /// Stops what [`Self::start`] started, given back by a test that took the stack apart,
    /// and deletes the test's topology on `broker`.
    pub async fn stop(app: App, fs: ServiceProcess, ns: Notifications, broker: &BrokerConfig) -> Result<(), SupportError> {
        drop(app.stop().await);
        drop(fs);
        ns.stop().await?;
        delete_topology(broker).await;
        Ok(())
    }
}
