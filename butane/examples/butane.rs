//! Translates a Butane file (or stdin) to Ignition JSON, like `butane --strict`:
//! `cargo run -p flatcar-butane --example butane -- [--pretty] [--compress] [FILE]`.

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut options = flatcar_butane::Options::default();
    let mut file = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--pretty" => options.pretty = true,
            "--compress" => options.compress = true,
            _ => file = Some(arg),
        }
    }
    let text = match &file {
        Some(path) => std::fs::read_to_string(path),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map(|_| s)
        }
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("reading {}: {e}", file.as_deref().unwrap_or("stdin"));
            return ExitCode::FAILURE;
        }
    };
    match flatcar_butane::to_ignition(&text, &options) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", file.as_deref().unwrap_or("stdin"));
            ExitCode::FAILURE
        }
    }
}
