//! terraform-provider-flatcar: serves the provider to Terraform, or renders its docs.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use terraform_provider_flatcar::docs;
use terraform_provider_flatcar::provider::FlatcarProvider;

/// Terraform/OpenTofu provider for Flatcar Container Linux on OpenStack.
///
/// Terraform starts this binary itself: install it in a plugin directory or a filesystem
/// mirror and run `terraform init`. Run by hand, it only renders docs or serves in debug mode.
#[derive(Parser)]
#[command(
    version,
    after_help = "Examples:\n  terraform-provider-flatcar docs --out docs --examples examples\n  terraform-provider-flatcar --debug   # then export the printed TF_REATTACH_PROVIDERS"
)]
struct Cli {
    /// Serve without TLS and print a TF_REATTACH_PROVIDERS value, for debuggers.
    #[arg(long)]
    debug: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Render the provider docs (tfplugindocs layout) from the schema and the examples.
    Docs {
        /// Directory to write (index.md, data-sources/, resources/).
        #[arg(long, default_value = "docs")]
        out: PathBuf,
        /// Directory holding provider/, data-sources/<type>/ and resources/<type>/ examples.
        #[arg(long, default_value = "examples")]
        examples: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let provider = match FlatcarProvider::new() {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("Error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(Command::Docs { out, examples }) = cli.command {
        return match docs::render(provider.as_ref(), &examples, &out) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Error: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    tfplugin::logging::init(
        "provider.terraform-provider-flatcar",
        &["terraform_provider_flatcar", "flatcar_cloud"],
    );
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let options = tfplugin::ServeOptions {
        provider_address: flatcar_cloud::PROVIDER_SOURCE.to_string(),
        debug: cli.debug,
    };
    match runtime.block_on(tfplugin::serve(provider, options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(tfplugin::ServeError::NoMagicCookie) => {
            eprint!("{}", tfplugin::server::NOT_A_COMMAND_MESSAGE);
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
