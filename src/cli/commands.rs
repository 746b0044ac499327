//! One function per subcommand.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use leakhound::browser::journey::RunOptions;
use leakhound::capture::offline::HostRule;
use leakhound::classify::{ClassifyOptions, EntityMap, IdentityFile, ProgressHook, Signatures};
use leakhound::pipeline::{
    audit_scenario, combined_exit_code, report_capture, slug, ReportOptions,
};
use leakhound::report::{self, Format, Policy, ReportMeta, EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS};
use leakhound::scenario::model::Device;
use leakhound::serve::SiteServer;

use super::{AnalyzeArgs, BrowserArgs, Command, DemoArgs, OutputArgs, RunArgs};

pub async fn dispatch(command: Command) -> Result<i32> {
    match command {
        Command::Run(args) => run(args).await,
        Command::Check { files } => Ok(check(&files)),
        Command::Analyze(args) => analyze(args),
        Command::Diff { old, new, json } => diff(&old, &new, json),
        Command::Explain { finding, report } => explain(&finding, &report),
        Command::Demo(args) => demo(args).await,
        Command::Signatures { dirs } => signatures(&dirs),
    }
}

fn load_signatures(dirs: &[PathBuf]) -> Result<Signatures> {
    let mut sigs = Signatures::bundled().context("the bundled signatures are invalid")?;
    for dir in dirs {
        sigs = sigs.merge(Signatures::load_dir(dir)?);
    }
    Ok(sigs)
}

fn report_options(out: &OutputArgs) -> Result<ReportOptions> {
    let formats = out
        .format
        .iter()
        .map(|f| f.parse::<Format>())
        .collect::<Result<Vec<_>, _>>()
        .context("--format takes json, html, sarif, junit, har")?;
    let policy = match &out.policy {
        Some(path) => Some(Policy::load(path)?),
        None => None,
    };
    let entities = match &out.entities {
        Some(path) => Some(EntityMap::load(path)?),
        None => None,
    };
    Ok(ReportOptions {
        classify: ClassifyOptions {
            signatures: load_signatures(&out.signatures)?,
            entities,
            secrets: Default::default(),
            progress: analysis_progress(),
            // Findings are sized under the policy's regimes (HIPAA without a policy).
            regimes: policy
                .as_ref()
                .map(|p: &Policy| p.regimes.clone())
                .unwrap_or_default(),
        },
        policy,
        formats,
        redact: out.redact,
    })
}

fn run_options(browser: &BrowserArgs) -> RunOptions {
    let mut opts = RunOptions::new(PathBuf::new());
    opts.chromium = browser.chromium.clone();
    opts.headed = browser.headed;
    opts.chromium_args = browser.chromium_args.clone();
    opts.honest = browser.honest_ua;
    opts.ignore_certificate_errors = browser.ignore_certificate_errors;
    opts.screenshots = !browser.no_screenshots;
    opts.device = browser.device.as_deref().map(|d| {
        if d == "mobile" {
            Device::Mobile
        } else {
            Device::Desktop
        }
    });
    opts
}

/// Shows how far the classifier has read a capture, on stderr, for captures big enough to take a
/// while (and only on a terminal; with -v as log lines elsewhere).
fn analysis_progress() -> ProgressHook {
    const SHOW_FROM: u64 = 64 << 20;
    let tty = std::io::stderr().is_terminal();
    ProgressHook::new(move |pass, done, total| {
        if total < SHOW_FROM {
            return;
        }
        let pct = done * 100 / total.max(1);
        let what = if pass == 1 {
            "learning canaries"
        } else {
            "matching requests"
        };
        if tty {
            eprint!(
                "\r  analysing capture: pass {pass}/2 ({what}) {pct:>3}% of {} MB",
                total >> 20
            );
            if pass == 2 && done >= total {
                eprintln!();
            }
        } else {
            tracing::info!("analysing capture: pass {pass}/2 ({what}) {pct}%");
        }
    })
}

/// Prints `[step/total] label` lines on stderr (only on a terminal, or with -v).
fn progress_printer(journey: String) -> impl Fn(usize, usize, &str) + Send + Sync {
    let tty = std::io::stderr().is_terminal();
    move |i, n, label| {
        if tty {
            eprintln!("  {journey} [{}/{n}] {label}", i + 1);
        } else {
            tracing::info!("{journey} [{}/{n}] {label}", i + 1);
        }
    }
}

async fn run(args: RunArgs) -> Result<i32> {
    // Validate every file first: a typo in the third journey should not cost two browser runs.
    let mut scenarios = Vec::new();
    let mut bad = false;
    for file in &args.files {
        match leakhound::scenario::load(file) {
            Ok(s) => scenarios.push((file.clone(), s)),
            Err(e) => {
                eprintln!("error: {e}");
                bad = true;
            }
        }
    }
    if bad {
        return Ok(EXIT_USAGE);
    }
    if let Some(path) = &args.identity {
        // One identity file serves many scenarios: its values are added to each scenario's
        // identity (a scenario's own key wins), its first parties and sensitive pages too.
        let identity = match IdentityFile::load(path) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_USAGE);
            }
        };
        for (_, scenario) in &mut scenarios {
            identity.merge_into(scenario);
        }
    }
    let report_opts = report_options(&args.output)?;
    let mut run = run_options(&args.browser);
    run.offline = args.offline;
    run.map = args
        .map
        .iter()
        .map(|m| HostRule::parse(m))
        .collect::<Result<Vec<_>, _>>()?;
    run.journey_timeout = args.timeout.map(Duration::from_secs);
    let env = |name: &str| std::env::var(name).ok();
    let mut codes = Vec::new();
    let mut used = std::collections::HashSet::new();
    for (file, scenario) in &scenarios {
        if leakhound::browser::interrupt::was_interrupted() {
            eprintln!(
                "interrupted: not running {} (and any journeys after it)",
                file.display()
            );
            codes.push(leakhound::report::EXIT_INCOMPLETE);
            break;
        }
        // One folder per journey, named after its file: `out/symptom-search/report.html`.
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut name = slug(&stem);
        while !used.insert(name.clone()) {
            name.push('-');
            name.push('x');
        }
        let out_dir = args.output.out.join(&name);
        let progress = progress_printer(scenario.name.clone());
        let audit = audit_scenario(
            scenario,
            &file.display().to_string(),
            &env,
            &run,
            &report_opts,
            &out_dir,
            &progress,
        )
        .await;
        match audit {
            Ok(audit) => {
                if !args.output.quiet {
                    report::terminal::print_summary(&audit.report, &audit.written)?;
                }
                codes.push(audit.exit_code);
            }
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                codes.push(EXIT_USAGE);
            }
        }
    }
    Ok(combined_exit_code(codes))
}

fn check(files: &[PathBuf]) -> i32 {
    let mut code = EXIT_OK;
    for (path, result) in leakhound::scenario::check_files(files) {
        match result {
            Ok(s) => println!("ok {} ({} steps)", path.display(), s.steps.len()),
            Err(e) => {
                eprintln!("{e}");
                code = EXIT_USAGE;
            }
        }
    }
    code
}

fn analyze(args: AnalyzeArgs) -> Result<i32> {
    let mut opts = report_options(&args.output)?;
    let is_har = args
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("har"));
    let out_dir = args.output.out.clone();
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    if is_har {
        let Some(identity_path) = &args.identity else {
            bail!(
                "a HAR file needs --identity FILE: the values to look for (see docs/identity.md)"
            );
        };
        let identity = IdentityFile::load(identity_path)?;
        opts.classify.secrets = identity.secrets();
        // Reports point at the file the user gave (SARIF results locate the HAR, not a
        // scenario that does not exist).
        let mut meta = ReportMeta::now(Some(args.file.display().to_string()));
        meta.secret_values = opts.classify.secrets.values().cloned().collect();
        // Streamed entry by entry, each finding decided and written to disk as it is made: no
        // intermediate capture file, memory flat whatever the HAR's size.
        let mut builder = report::ReportBuilder::new(opts.policy.as_ref(), &meta.secret_values)?;
        let (summary, analysis) =
            leakhound::classify::analyze_har_with(&args.file, &identity, &opts.classify, |f| {
                builder.push(f)
            })?;
        let built = builder.finish(&summary, analysis, meta)?;
        let written = report::write_all(&built, &out_dir, &opts.formats, opts.redact)?;
        if !args.output.quiet {
            report::terminal::print_summary(&built, &written)?;
        }
        return Ok(report::exit_code(&built));
    }
    if let Some(identity_path) = &args.identity {
        opts.classify.secrets = IdentityFile::load(identity_path)?.secrets();
    }
    let capture = args.file.clone();
    let mut meta = ReportMeta::now(Some(capture.display().to_string()));
    meta.secret_values = opts.classify.secrets.values().cloned().collect();
    let audit = report_capture(&capture, &opts.classify, &opts, meta, &out_dir)?;
    if !args.output.quiet {
        report::terminal::print_summary(&audit.report, &audit.written)?;
    }
    Ok(audit.exit_code)
}

fn diff(old: &Path, new: &Path, json: bool) -> Result<i32> {
    let old = report::read_report(old)?;
    let new = report::read_report(new)?;
    let d = report::diff(&old, &new);
    if json {
        println!("{}", d.to_json()?);
    } else {
        print!("{}", d.to_text());
    }
    Ok(if d.has_new_violations() {
        EXIT_VIOLATIONS
    } else {
        EXIT_OK
    })
}

fn explain(id: &str, path: &Path) -> Result<i32> {
    let report = report::read_report(path)?;
    let Some(index) = report::explain::resolve_finding_id(&report, id) else {
        eprintln!(
            "error: {} has no finding {id} (it has F1 to F{}, groups G0 to G{})",
            path.display(),
            report.findings.len(),
            report.groups.len().saturating_sub(1)
        );
        return Ok(EXIT_USAGE);
    };
    match report::explain::explain_finding(&report, index) {
        Some(text) => {
            print!("{text}");
            Ok(EXIT_OK)
        }
        None => Ok(EXIT_USAGE),
    }
}

fn signatures(dirs: &[PathBuf]) -> Result<i32> {
    let sigs = load_signatures(dirs)?;
    println!("signatures {}", sigs.version());
    for v in sigs.vendors() {
        println!(
            "{:<22} {:<16} {:<28} {}",
            v.id,
            v.category.as_str(),
            v.name,
            v.company
        );
    }
    Ok(EXIT_OK)
}

async fn demo(args: DemoArgs) -> Result<i32> {
    use leakhound::demo;
    let server = SiteServer::start(demo::site()).await?;
    let addr = server.addr();
    eprintln!("Demo hospital served on {addr} (www.mercy-general.test and its portal, trackers included).");
    let run = demo::run_options(run_options(&args.browser), addr)?;
    let report_opts = demo::report_options(Format::ALL.to_vec())?;
    let env = demo::env_lookup();
    let mut codes = Vec::new();
    let mut html = Vec::new();
    for journey in demo::journeys()? {
        if args.only.as_deref().is_some_and(|o| o != journey.stem) {
            continue;
        }
        let out_dir = args.out.join(journey.stem);
        let progress = progress_printer(journey.scenario.name.clone());
        let audit = audit_scenario(
            &journey.scenario,
            &journey.file,
            &env,
            &run,
            &report_opts,
            &out_dir,
            &progress,
        )
        .await?;
        report::terminal::print_summary(&audit.report, &audit.written)?;
        html.extend(
            audit
                .written
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "html"))
                .cloned(),
        );
        codes.push(audit.exit_code);
    }
    if let Some(only) = &args.only {
        if codes.is_empty() {
            bail!("no demo journey named {only:?} (symptom-search, portal-login, appointment-booking)");
        }
    }
    if !html.is_empty() {
        println!("\nOpen the HTML reports:");
        for p in &html {
            println!("  {}", p.display());
        }
    }
    if args.serve {
        eprintln!(
            "Serving the demo site on {addr}; e.g. leakhound run --offline --map '*.test={addr}' FILE. Ctrl-C to stop."
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    server.shutdown().await;
    Ok(combined_exit_code(codes))
}
