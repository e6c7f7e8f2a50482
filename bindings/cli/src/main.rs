//! The `svcroute` binary: everything is in the `svcroute_cli` library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    // Buffered: table output is many small writes.
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = svcroute_cli::run(
        std::env::args_os(),
        &mut stdin.lock(),
        &mut out,
        &mut stderr.lock(),
    );
    ExitCode::from(code)
}
