//! `crdtype-schema`: parses arguments and maps the report to an exit status. The checks
//! are in the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use crdtype_schema::check::{Mode, compare, compare_with_history, compare_with_lock};
use crdtype_schema::input::{self, InputError};
use crdtype_schema::report::{Format, render};

/// Checks that a new version of crdtype schemas stays compatible with the old one.
#[derive(Parser)]
#[command(name = "crdtype-schema", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes every schema found as a JSON descriptor with its fingerprint.
    Export {
        /// `.rs` files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The directory to write to (created if need be).
        #[arg(short, long, default_value = ".")]
        output: PathBuf,
        /// Also write each schema's FlatBuffers `.fbs`.
        #[arg(long)]
        fbs: bool,
    },
    /// Checks NEW against OLD, a history directory, or a lock file. Exit status: 0
    /// compatible, 1 incompatible, 2 an input could not be read or is not a valid schema.
    Check {
        /// OLD then NEW (each a `.rs` file, a directory, or an export); with `--history`
        /// or `--lock`, only NEW.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Which directions must hold.
        #[arg(long, value_enum, default_value_t)]
        mode: Mode,
        /// How to print the findings.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// A directory of exports of every version released: NEW is checked against each.
        #[arg(long, conflicts_with = "lock")]
        history: Option<PathBuf>,
        /// A lock file: NEW is checked against it, and must match it.
        #[arg(long)]
        lock: Option<PathBuf>,
    },
    /// Writes the lock file of the schemas found.
    Lock {
        /// `.rs` files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The lock file.
        #[arg(short, long, default_value = "crdtype-schema.lock")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(errors) => {
            for error in errors {
                eprintln!("error: {error}");
            }
            ExitCode::from(2)
        }
    }
}

/// Whether the command succeeded (a check: found the schemas compatible).
fn run(cli: Cli) -> Result<bool, Vec<InputError>> {
    match cli.command {
        Command::Export { paths, output, fbs } => {
            let found = crdtype_schema::read_all(&paths)?;
            write_files(&output, crdtype_schema::export(&found, fbs))?;
            Ok(true)
        }
        Command::Lock { paths, output } => {
            let found = crdtype_schema::read_one_version_each(&paths)?;
            write_file(&output, &crdtype_schema::lock(&found))?;
            Ok(true)
        }
        Command::Check {
            paths,
            mode,
            format,
            history,
            lock,
        } => {
            let new = crdtype_schema::read_one_version_each(&paths);
            let report = match (history, lock) {
                (Some(history), _) => {
                    let (history, new) = both(input::read_exports(&history), new)?;
                    compare_with_history(&history, &new)
                }
                (None, Some(lock)) => {
                    let (lock, new) = both(input::read(&lock), new)?;
                    compare_with_lock(&lock, &new)
                }
                (None, None) => {
                    let [old, new] = <[PathBuf; 2]>::try_from(paths).map_err(|paths| {
                        vec![usage(format!(
                            "check takes OLD and NEW, or NEW with --history or --lock; got {} \
                             paths",
                            paths.len()
                        ))]
                    })?;
                    let (old, new) = both(
                        crdtype_schema::read_one_version_each(&[old]),
                        crdtype_schema::read_one_version_each(&[new]),
                    )?;
                    compare(&old, &new)
                }
            };
            // A closed output (`| head`) is not an error of the check.
            let _ = write!(
                std::io::stdout().lock(),
                "{}",
                render(&report, mode, format)
            );
            Ok(!report.fails(mode))
        }
    }
}

/// Both inputs, or the errors of both.
fn both<A, B>(
    a: Result<A, Vec<InputError>>,
    b: Result<B, Vec<InputError>>,
) -> Result<(A, B), Vec<InputError>> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(a.err().into_iter().chain(b.err()).flatten().collect()),
    }
}

fn write_files(dir: &std::path::Path, files: Vec<(String, String)>) -> Result<(), Vec<InputError>> {
    std::fs::create_dir_all(dir).map_err(|source| vec![io(dir, source)])?;
    for (name, contents) in files {
        write_file(&dir.join(name), &contents)?;
    }
    Ok(())
}

fn write_file(path: &std::path::Path, contents: &str) -> Result<(), Vec<InputError>> {
    std::fs::write(path, contents).map_err(|source| vec![io(path, source)])
}

fn io(path: &std::path::Path, source: std::io::Error) -> InputError {
    InputError::Io {
        path: path.to_owned(),
        source,
    }
}

fn usage(message: String) -> InputError {
    InputError::Invalid {
        origin: input::Origin {
            path: PathBuf::from("<arguments>"),
            line: 0,
            column: 0,
        },
        message,
    }
}
