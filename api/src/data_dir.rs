//! DATA_DIR holds the embedded database (every password hash), the generated JWT secret and the
//! generated admin password: only the server's own user may read any of it.

use std::{
    fs::{DirBuilder, OpenOptions},
    io::Write,
    path::Path,
};

use anyhow::Context as _;

/// Creates `dir` (and its parents) readable by its owner only. An existing directory is left as
/// it is, since it may be shared (`/var/lib`, say), but a warning names one others can read.
pub fn ensure(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        let mut builder = DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .with_context(|| format!("creating DATA_DIR {}", dir.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)
            .with_context(|| format!("reading DATA_DIR {}", dir.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(dir = %dir.display(), mode = format!("{:o}", mode & 0o777), "DATA_DIR can be read by other users");
        }
    }
    Ok(())
}

/// Makes sure `path` exists and only its owner can read or write it (SQLite gives its WAL and
/// shared-memory files the database file's permissions).
pub fn restrict_file(path: &Path) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    Ok(())
}

/// Writes a new file readable by its owner only; fails if it exists.
pub fn write_new_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_dir_and_its_files_are_private() {
        let dir = std::env::temp_dir().join(format!("data-dir-{}", uuid::Uuid::now_v7()));
        let nested = dir.join("a/b");
        ensure(&nested).expect("created");
        restrict_file(&nested.join("api.sqlite")).expect("restricted");
        write_new_private(&nested.join("secret"), b"x").expect("written");
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&nested.join("api.sqlite")), 0o600);
        assert_eq!(mode(&nested.join("secret")), 0o600);
        assert!(write_new_private(&nested.join("secret"), b"y").is_err());
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
