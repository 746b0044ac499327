//! Scenario files: the journeys a user writes in `scenarios/*.json`.
//!
//! [`parse_str`] and [`load`] read a file strictly (unknown fields and actions are errors, because a
//! typo that silently skips a step would make an audit lie) and validate it; every problem comes
//! back as a [`Diagnostic`] with file, line, column, step and a hint. [`template`] fills in
//! `{{identity.KEY}}` and `{{env.NAME}}` and keeps secrets out of everything that is written.
//! The format is documented in `docs/scenarios.md`.

pub mod error;
pub mod identity;
pub(crate) mod jsonc;
pub mod model;
mod parse;
mod position;
mod step;
pub mod template;
mod validate;

pub use error::{Diagnostic, ScenarioError};
pub use identity::{load_identity, IdentityError, IdentityFile};
pub use model::{Action, Device, IdentityValue, Leave, Scenario, Step, WaitFor};
pub use parse::{check_files, load, parse_str};
pub use position::StepLines;
pub use step::action_fields;
pub use template::{
    journey_info, journey_info_resolved, render, render_action, resolve_identity, Rendered,
    RenderedAction, ResolvedIdentity, TemplateError,
};
