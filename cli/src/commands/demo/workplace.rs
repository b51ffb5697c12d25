//! Where the demo works: a fresh temporary directory (removed afterwards) or
//! the user's `--dir` (kept, so its database and checkpoint can be looked at).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use cairndb::fs::{Fs, StdFs, remove_dir_all};

use crate::escape;
use crate::failure::{At as _, Failure};

/// The demo's directory.
pub struct Workplace {
    /// Its path.
    pub root: PathBuf,
    /// Made for this run, and removed after it.
    pub temporary: bool,
}

impl Workplace {
    /// `dir` (created if missing; it must be empty) or a new temporary directory.
    pub fn prepare(dir: Option<&Path>) -> Result<Workplace, Failure> {
        let fs = StdFs::new();
        let Some(dir) = dir else {
            let root = temporary_base().join(format!("cairn-demo-{}-{}", std::process::id(), unix_ms()));
            fs.create_dir_all(&root).at(&root)?;
            return Ok(Workplace { root, temporary: true });
        };
        fs.create_dir_all(dir).at(dir)?;
        if !fs.read_dir(dir).at(dir)?.is_empty() {
            return Err(Failure::at(dir, "is not empty: the demo works only in a new or empty directory"));
        }
        Ok(Workplace { root: dir.to_path_buf(), temporary: false })
    }

    /// Removes a temporary workplace; says whether it did.
    pub fn finish(self) -> bool {
        if !self.temporary {
            return false;
        }
        match remove_dir_all(&StdFs::new(), &self.root) {
            Ok(()) => true,
            Err(e) => {
                log::warn!("could not remove {}: {e}", escape::path(&self.root));
                false
            }
        }
    }
}

/// `$TMPDIR` when set; else `/var/tmp`, which is on disk where `/tmp` may be
/// in memory (tmpfs) and would make every number meaningless.
fn temporary_base() -> PathBuf {
    let var_tmp = Path::new("/var/tmp");
    if std::env::var_os("TMPDIR").is_none() && var_tmp.is_dir() {
        return var_tmp.to_path_buf();
    }
    std::env::temp_dir()
}

fn unix_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}
