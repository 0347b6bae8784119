//! `kapok serve`: the live what-if page over a framework's data.

use std::net::{IpAddr, SocketAddr};

use clap::Args;

use super::RunArgs;
use crate::error::Error;

/// Arguments of `kapok serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on. The default answers this machine only; any other address lets
    /// other machines read the data (a warning says so).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Open the page in the system's web browser.
    #[arg(long)]
    open: bool,
}

/// Runs `kapok serve`.
pub fn run(a: &ServeArgs) -> Result<(), Error> {
    let ip: IpAddr = match a.host.as_str() {
        "localhost" => IpAddr::from([127, 0, 0, 1]),
        h => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| {
                Error::Usage(format!(
                    "--host {h}: not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)"
                ))
            })?,
    };
    let fw = a.run.framework(None)?;
    let listener = crate::serve::bind(SocketAddr::new(ip, a.port))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("cannot listen on {ip}:{}: {e}", a.port)))?;
    let model = crate::serve::Model::load(fw, a.run.framework.clone(), a.run.data.as_deref())?;
    super::warn(&model.warnings);
    if !ip.is_loopback() {
        eprintln!(
            "warning: --host {}: the page and its data can be read by any machine that reaches this address; it has no password",
            a.host
        );
    }
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let url = format!("http://{host}:{}/", addr.port());
    // The first line of standard output is the address, for scripts; the rest is for people.
    println!("{url}");
    eprintln!("kapok serve: {url} — Ctrl-C to stop");
    if a.open {
        open_browser(&url);
    }
    crate::serve::run(model, listener)
}

/// Opens `url` in the system's browser; a failure is a warning, the server goes on.
fn open_browser(url: &str) {
    let (prog, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    if let Err(e) = std::process::Command::new(prog)
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("warning: --open: cannot start {prog}: {e}; open {url} yourself");
    }
}
