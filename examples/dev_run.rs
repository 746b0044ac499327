use leakhound::browser::driver::RenderedText;
use leakhound::browser::journey::{run_journey, RunOptions};
use leakhound::capture::offline::HostRule;
use leakhound::capture::record::JourneyInfo;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or("leakhound=debug".into()))
        .init();
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let scenario: leakhound::scenario::model::Scenario = serde_json::from_str(&text).unwrap();
    let mut opts = RunOptions::new(args[2].clone().into());
    opts.offline = true;
    for m in &args[3..] {
        opts.map.push(HostRule::parse(m).unwrap());
    }
    let render = |t: &str| {
        Ok(RenderedText {
            text: t.to_string(),
            canary_key: None,
            secret: false,
        })
    };
    let journey = JourneyInfo {
        name: scenario.name.clone(),
        start_url: scenario.start_url.clone(),
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let out = run_journey(
        &scenario,
        journey,
        &Default::default(),
        &render,
        &opts,
        &|i, n, l| eprintln!("[{i}/{n}] {l}"),
    )
    .await;
    eprintln!("{:?} in {:?}", out.map(|o| o.end), t.elapsed());
}
