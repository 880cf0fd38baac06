//! The `imgform` binary: runs the CLI and decides the exit code in one place.

use imgform::cli::Ended;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: an apply of 10,000 images spent about 40% of
/// its CPU in glibc's malloc and free (consolidation of the many short-lived JSON values of
/// each poll tick), which sets the pace of the walk once thousands of objects finish at once.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match imgform::cli::run(args) {
        Ok(Ended::Success) => ExitCode::SUCCESS,
        Ok(Ended::Failed) => ExitCode::from(1),
        Ok(Ended::Changes) => ExitCode::from(2),
        Ok(Ended::Unformatted) => ExitCode::from(3),
        Err(e) => {
            // A closed pipe (`imgform graph | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // Terraform's plain layout, which PR tools look for: `Error: ...`.
            eprintln!("\nError: {e:#}\n");
            ExitCode::from(1)
        }
    }
}
