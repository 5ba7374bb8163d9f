//! Workspace tasks.
//!
//! `cargo xtask bindings --headers DIR [--check]` regenerates `level-zero-sys/src/generated/`
//! from a Level Zero headers directory (the `usr/include/level_zero` folder of Debian sid's
//! `libze-dev` package; `xtask/fetch-headers.sh` downloads it). With `--check` nothing is
//! written: the command fails if the committed files differ from what the headers produce.

mod generate;

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  cargo xtask bindings --headers <dir containing ze_api.h> [--check]\n\n\
         The headers come from Debian sid's libze-dev; `xtask/fetch-headers.sh` fetches them."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        return usage();
    };
    match task.as_str() {
        "bindings" => {
            let mut headers = None;
            let mut check = false;
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--headers" => headers = it.next().map(PathBuf::from),
                    "--check" => check = true,
                    _ => return usage(),
                }
            }
            let Some(headers) = headers else {
                return usage();
            };
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask lives inside the workspace")
                .to_path_buf();
            match generate::run(&root, &headers, check) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => usage(),
    }
}
