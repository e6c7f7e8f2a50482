//! Reading the `-f` inputs: files, directories and stdin, as kubectl does.
//!
//! * A file named explicitly is read whatever its extension.
//! * A directory contributes its `.json`, `.yaml` and `.yml` files in name
//!   order; its subdirectories only with `-R` (kubectl's rule).
//! * `-` is stdin, at most once.
//! * A path that does not exist, or a file that is not UTF-8, is an error
//!   (exit 2) that names it.
//!
//! Parsing the text is the core's job; this module only finds and reads it,
//! so that the core's errors can name the file (`Source::name`).

use std::io::Read;
use std::path::{Path, PathBuf};

use svcroute::ErrorKind;

use crate::exit::CliError;

/// The extensions kubectl reads from a directory.
pub const MANIFEST_EXTENSIONS: [&str; 3] = ["json", "yaml", "yml"];

/// One input text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as given or found (`shop/web.yaml`), or `-` for stdin; what
    /// error messages call this input.
    pub name: String,
    /// The whole text, checked UTF-8.
    pub text: String,
}

/// Reads every input that `filenames` names, in order (a directory's files
/// sorted by name). `recursive` is `-R`.
pub fn read_sources(
    filenames: &[PathBuf],
    recursive: bool,
    stdin: &mut dyn Read,
) -> Result<Vec<Source>, CliError> {
    let mut sources = Vec::new();
    let mut stdin_read = false;
    for path in filenames {
        if path.as_os_str() == "-" {
            if stdin_read {
                return Err(CliError::usage("-f - (stdin) can be given only once"));
            }
            stdin_read = true;
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
            sources.push(source("-", bytes)?);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                CliError::usage(format!("the path \"{}\" does not exist", path.display()))
            }
            _ => CliError::usage(format!("cannot read \"{}\": {e}", path.display())),
        })?;
        if meta.is_dir() {
            read_dir(path, recursive, &mut sources)?;
        } else {
            sources.push(read_file(path)?);
        }
    }
    Ok(sources)
}

fn read_dir(dir: &Path, recursive: bool, sources: &mut Vec<Source>) -> Result<(), CliError> {
    let cannot =
        |e: std::io::Error| CliError::usage(format!("cannot read \"{}\": {e}", dir.display()));
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(cannot)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(cannot)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                read_dir(&path, recursive, sources)?;
            }
        } else if path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| MANIFEST_EXTENSIONS.contains(&ext))
        {
            sources.push(read_file(&path)?);
        }
    }
    Ok(())
}

/// Reads one file (any extension); errors name it.
///
/// ```
/// let e = svcroute_cli::input::read_file(std::path::Path::new("/nonexistent/x.yaml")).unwrap_err();
/// assert!(e.to_string().contains("/nonexistent/x.yaml"));
/// ```
pub fn read_file(path: &Path) -> Result<Source, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::usage(format!("cannot read \"{}\": {e}", path.display())))?;
    source(&path.display().to_string(), bytes)
}

fn source(name: &str, bytes: Vec<u8>) -> Result<Source, CliError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source {
            name: name.to_owned(),
            text,
        }),
        Err(e) => Err(CliError::of_kind(
            ErrorKind::Parse,
            format!(
                "{name}: not UTF-8 text (first bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let dir = std::env::temp_dir()
                .join(format!("svcroute-cli-input-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn write(&self, rel: &str, text: &[u8]) -> PathBuf {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn names(sources: &[Source], root: &Path) -> Vec<String> {
        sources
            .iter()
            .map(|s| {
                Path::new(&s.name)
                    .strip_prefix(root)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| s.name.clone())
            })
            .collect()
    }

    #[test]
    fn directories_give_manifests_in_name_order_and_recurse_only_with_r() {
        let dir = Scratch::new("dir");
        dir.write("b.yaml", b"kind: Service\n");
        dir.write("a.json", b"{}");
        dir.write("c.yml", b"kind: Pod\n");
        dir.write("notes.txt", b"ignored");
        dir.write("sub/d.yaml", b"kind: Node\n");

        let flat =
            read_sources(std::slice::from_ref(&dir.0), false, &mut std::io::empty()).unwrap();
        assert_eq!(names(&flat, &dir.0), ["a.json", "b.yaml", "c.yml"]);
        assert_eq!(flat[1].text, "kind: Service\n");

        let deep = read_sources(std::slice::from_ref(&dir.0), true, &mut std::io::empty()).unwrap();
        assert_eq!(
            names(&deep, &dir.0),
            ["a.json", "b.yaml", "c.yml", "sub/d.yaml"]
        );
    }

    #[test]
    fn files_keep_the_given_order_and_any_extension() {
        let dir = Scratch::new("files");
        let z = dir.write("z.txt", b"kind: Pod\n");
        let a = dir.write("a.yaml", b"kind: Service\n");
        let got = read_sources(&[z, "-".into(), a], false, &mut &b"kind: Node\n"[..]).unwrap();
        assert_eq!(names(&got, &dir.0), ["z.txt", "-", "a.yaml"]);
        assert_eq!(got[1].text, "kind: Node\n");
    }

    #[test]
    fn errors_name_the_input() {
        let dir = Scratch::new("errors");
        let missing = dir.0.join("missing.yaml");
        let e =
            read_sources(std::slice::from_ref(&missing), false, &mut std::io::empty()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("the path \"{}\" does not exist", missing.display())
        );
        assert_eq!(e.exit_code(), 2);

        let bad = dir.write("bad.yaml", b"kind: \xff\n");
        let e = read_sources(&[bad], false, &mut std::io::empty()).unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::Parse));
        assert!(
            e.message()
                .ends_with("bad.yaml: not UTF-8 text (first bad byte at offset 6)")
        );

        let e = read_sources(&["-".into(), "-".into()], false, &mut std::io::empty()).unwrap_err();
        assert!(e.message().contains("only once"));
    }
}
