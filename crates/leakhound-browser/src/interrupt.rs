//! SIGINT (Ctrl-C) and SIGTERM (what CI sends when a job is cancelled) end a run gracefully: the
//! journey stops, the capture is finished and the reports are written, marked incomplete. A second
//! signal while that happens ends leakhound at once (Chromium goes with it: it is killed by the
//! parent-death signal and its own process group, see `launch`).
//!
//! Once a program handles a signal, the default "terminate" action is gone for the rest of its
//! life; that is why the second signal is handled here too, rather than left to the default.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the first interrupting signal arrived: later journeys of the same invocation are not
/// started.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// True once SIGINT or SIGTERM has been received.
pub fn was_interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Waits for SIGINT or SIGTERM and returns how to name it in a reason ("Ctrl-C" or "SIGTERM").
/// After it returns, a second signal exits the process immediately with status 130.
pub async fn interrupted() -> &'static str {
    let name = next_signal().await;
    INTERRUPTED.store(true, Ordering::SeqCst);
    tokio::spawn(async {
        let second = next_signal().await;
        eprintln!("leakhound: {second} again: stopping now without finishing the reports");
        std::process::exit(130);
    });
    name
}

async fn next_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    tokio::select! {
        r = tokio::signal::ctrl_c() => match r {
            Ok(()) => "Ctrl-C",
            // No SIGINT handler could be installed: never resolve on this arm.
            Err(_) => std::future::pending().await,
        },
        name = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                    "SIGTERM"
                }
                None => std::future::pending().await,
            }
        } => name,
    }
}
