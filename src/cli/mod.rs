//! Command-line interface: argument parsing and the glue that runs the pipeline
//! (scenario → browser → capture → classify → report) for each subcommand.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use leakhound_core::report::{EXIT_INCOMPLETE, EXIT_USAGE};

/// Shows which third parties receive a hospital site's health data.
///
/// leakhound replays a patient journey (symptom search, portal login, appointment booking) in a real
/// Chromium, captures every request the site sends, and reports exactly which third party received
/// which page path, search term, identifier, page title, form input or password — through which
/// parameter, in which encoding, at which step, sent by which script.
///
/// Exit codes: 0 no policy violation, 1 policy violations, 2 usage or input error,
/// 3 run incomplete (browser crash, timeout, failed step; reports are still written).
#[derive(Debug, Parser)]
#[command(
    name = "leakhound",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Start with `leakhound demo`: it replays three journeys on a bundled demo \
hospital, offline, and writes an HTML report.\n\nDocs: docs/scenarios.md (writing journeys), \
docs/report-format.md, docs/policy.md, docs/ci.md."
)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). Quiet by default.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay journeys in Chromium, capture every request, classify and report.
    ///
    /// Example: leakhound run scenarios/symptom-search.json --policy policy.json --out out/
    Run(RunArgs),
    /// Validate scenario files without starting a browser.
    ///
    /// Prints `ok FILE` or the error with file, line, column and step for each file.
    Check {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Classify an existing capture (`.jsonl` from `leakhound run`) or a HAR file from any
    /// browser's DevTools, and report.
    ///
    /// Example: leakhound analyze session.har --identity identity.json --out out/
    Analyze(AnalyzeArgs),
    /// Compare two JSON reports (e.g. last release vs this one): flows new, gone or changed.
    ///
    /// Exits 1 when the new report has policy violations the old one did not.
    Diff {
        /// The older report.json.
        old: PathBuf,
        /// The newer report.json.
        new: PathBuf,
        /// Print the diff as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the rule chain for one finding of a report: what left, the page and why it is
    /// sensitive or not, each regime's severity and rule, and the policy decision.
    ///
    /// Example: leakhound explain F12 out/symptom-search/report.json
    Explain {
        /// `F12` (the 12th finding, as the reports number them) or `G3` (group 3's first finding).
        finding: String,
        /// The report.json (default: ./report.json).
        #[arg(default_value = "report.json")]
        report: PathBuf,
    },
    /// Replay the bundled demo hospital's journeys offline and write the report.
    ///
    /// Serves a fictional hospital with common trackers on loopback, replays symptom search,
    /// portal login and appointment booking, prints the summary and writes an HTML report.
    Demo(DemoArgs),
    /// List the bundled vendor signatures (plus those of --signatures folders).
    Signatures {
        /// Extra signature folders.
        #[arg(long = "signatures", value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
}

/// Options shared by everything that classifies and reports.
#[derive(Debug, Args, Clone)]
struct OutputArgs {
    /// Directory for reports (one subdirectory per scenario file, named after it).
    #[arg(long, short, default_value = "leakhound-out", value_name = "DIR")]
    out: PathBuf,
    /// Policy file: which vendors may receive which data, thresholds, ignore rules
    /// (docs/policy.md). Without one, any health data reaching any third party is a violation.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Report formats to write, comma-separated: json, html, sarif, junit, har.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "json,html,sarif,junit,har"
    )]
    format: Vec<String>,
    /// Mask canary values (emails, names, search terms) in all outputs, for sharing reports widely.
    /// Passwords and secrets are never written, with or without this.
    #[arg(long)]
    redact: bool,
    /// Extra vendor signature folders (docs/signatures.md).
    #[arg(long = "signatures", value_name = "DIR")]
    signatures: Vec<PathBuf>,
    /// A domain-to-company list you supply (Ghostery TrackerDB, DuckDuckGo Tracker Radar entity
    /// map, or Disconnect entities.json) so unknown third parties still get an owner.
    #[arg(long, value_name = "FILE")]
    entities: Option<PathBuf>,
    /// Do not print the summary table.
    #[arg(long, short)]
    quiet: bool,
}

/// How to run Chromium.
#[derive(Debug, Args, Clone)]
struct BrowserArgs {
    /// Chromium binary (default: $LEAKHOUND_CHROMIUM, then the usual install paths).
    #[arg(long, value_name = "PATH")]
    chromium: Option<PathBuf>,
    /// Show the browser window (debugging).
    #[arg(long)]
    headed: bool,
    /// Extra Chromium argument, e.g. --chromium-arg=--proxy-server=http://proxy:3128 (repeatable).
    #[arg(long = "chromium-arg", value_name = "ARG", allow_hyphen_values = true)]
    chromium_args: Vec<String>,
    /// Keep Chromium's own headless user agent and automation flags. By default leakhound looks
    /// like a patient's Chrome, because real trackers drop events from detected automation.
    #[arg(long)]
    honest_ua: bool,
    /// Accept invalid TLS certificates (a staging site with a self-signed certificate). Off by
    /// default: an audit refuses a server it cannot authenticate, and a start page that fails TLS
    /// makes the run incomplete. The report says when this was on.
    #[arg(long)]
    ignore_certificate_errors: bool,
    /// Emulate a device, overriding the scenario.
    #[arg(long, value_parser = ["desktop", "mobile"])]
    device: Option<String>,
    /// Do not take a screenshot after each step.
    #[arg(long)]
    no_screenshots: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Scenario files (JSON, see docs/scenarios.md).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    browser: BrowserArgs,
    /// Offline replay: nothing leaves the machine. Third-party requests are captured exactly as
    /// sent and answered locally with empty responses; --map routes hosts to local servers.
    #[arg(long)]
    offline: bool,
    /// Route HOST (or *.DOMAIN) to a local server ADDR in offline mode, e.g.
    /// --map www.hospital.test=127.0.0.1:8080 (repeatable).
    #[arg(long, value_name = "HOST=ADDR", requires = "offline")]
    map: Vec<String>,
    /// Whole-journey timeout in seconds (overrides the scenario's).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Identity file (docs/identity.md) whose values are added to every scenario's identity, so
    /// one identity serves many scenarios.
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    /// A capture (.jsonl) or HAR (.har) file.
    file: PathBuf,
    /// Identity file with the canary values to look for (required for HAR; see docs/identity.md).
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Directory for the demo's reports.
    #[arg(long, short, default_value = "leakhound-demo", value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    browser: BrowserArgs,
    /// Only this demo journey (symptom-search, portal-login, appointment-booking).
    #[arg(long)]
    only: Option<String>,
    /// Keep serving the demo site after the run, to browse it (Ctrl-C to stop).
    #[arg(long)]
    serve: bool,
}

/// Parses arguments, runs the command, returns the process exit code.
pub fn main() -> ExitCode {
    ExitCode::from(u8::try_from(run()).unwrap_or(EXIT_USAGE as u8))
}

fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_INCOMPLETE;
        }
    };
    let result = runtime.block_on(commands::dispatch(cli.command));
    // Whatever is still running (a stuck blocking read) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(3));
    match result {
        Ok(code) => code,
        // The reader of our output went away (`leakhound signatures | head`): not an error.
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            EXIT_USAGE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "leakhound=warn,chromiumoxide=off",
        1 => "leakhound=info,chromiumoxide=off",
        2 => "leakhound=debug,chromiumoxide=warn",
        _ => "leakhound=trace,chromiumoxide=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEAKHOUND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
