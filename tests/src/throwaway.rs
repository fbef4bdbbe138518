//! A throwaway server of a test's own, run by one of the project's scripts
//! (`scripts/postgres.sh`, `scripts/dynamodb.sh`): started with `start`, driven with `pause` and
//! `resume`, and stopped and removed when the value is dropped.

use std::path::PathBuf;

pub struct Throwaway {
    script: PathBuf,
    dir: tempfile::TempDir,
    /// What `start` printed: the server's URL or endpoint.
    pub address: String,
}

impl Throwaway {
    /// `script` is a file name in `scripts/`; `extra` goes after `start DIR`.
    pub async fn start(script: &str, extra: &[&str]) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts").join(script);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut server = Self { script, dir, address: String::new() };
        server.address = server.run_with("start", extra).await;
        server
    }

    /// The directory the script keeps the server's state in (its pid file, its port).
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("server")
    }

    /// Runs `script COMMAND DIR`, returning what it printed.
    pub async fn run(&self, command: &str) -> String {
        self.run_with(command, &[]).await
    }

    async fn run_with(&self, command: &str, extra: &[&str]) -> String {
        let output = tokio::process::Command::new(&self.script)
            .arg(command)
            .arg(self.state())
            .args(extra)
            .output()
            .await
            .expect("the script runs");
        let name = self.script.display();
        assert!(output.status.success(), "{name} {command}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("text").trim().to_owned()
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.script).arg("stop").arg(self.state()).output();
    }
}
