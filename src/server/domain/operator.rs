//! What operators can do (open and update incidents, schedule and cancel maintenance), with
//! the validation shared by the JSON API and the admin forms. Every action is committed to
//! the store before the engine publishes it, and an invalid request writes nothing.

use crate::model::{Impact, Incident, IncidentStatus, MaintenanceWindow};
use crate::server::clock::now_ms;
use crate::server::clock::parse_rfc3339;
use crate::server::domain::engine::{Engine, EngineError};
use crate::server::store::{NewIncident, NewMaintenance, NewUpdate, StoreError, UpdateRefused};
use serde::Deserialize;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_MESSAGE_CHARS: usize = 5000;
pub const MAX_WINDOW_DAYS: i64 = 31;

/// A rejected field, named as in the API and the forms.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, message: message.into() }
}

/// Why an action did not happen (each has one HTTP status: `http::error`).
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Whether a committed action shows in this instance's snapshot when it is answered. With
/// several instances (see `server::cluster::writes`) the leader publishes it; when no leader
/// does within a few seconds, the action is stored and shows once one is back (`202`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Now,
    Later,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    pub title: String,
    pub impact: String,
    #[serde(default)]
    pub components: Vec<String>,
    /// Defaults to investigating.
    #[serde(default)]
    pub status: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    pub status: String,
    pub message: String,
    /// Changes the incident's impact when given.
    #[serde(default)]
    pub impact: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceInput {
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub components: Vec<String>,
}

/// Characters that reorder how the text around them is shown (bidirectional overrides,
/// embeddings, isolates and marks): in operator text they could make viewers read something
/// other than what was written.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A title: trimmed, 1 to 200 characters, one line.
fn title(field: &'static str, v: &str) -> Result<String, FieldError> {
    let t = v.trim();
    let n = t.chars().count();
    if n == 0 {
        return Err(invalid(field, "is required"));
    }
    if n > MAX_TITLE_CHARS {
        return Err(invalid(field, format!("is {n} characters; at most {MAX_TITLE_CHARS} are allowed")));
    }
    if let Some(c) = t.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        return Err(invalid(field, format!("must be one line without control characters (found U+{:04X})", c as u32)));
    }
    Ok(t.to_string())
}

/// A message: trimmed, 1 to 5,000 characters; line breaks and tabs allowed, other control
/// characters not. Every line break (CRLF, or a CR alone) is kept as `\n`.
pub fn message(field: &'static str, v: &str, max: usize) -> Result<String, FieldError> {
    let t = v.trim();
    let n = t.chars().count();
    if n == 0 {
        return Err(invalid(field, "is required"));
    }
    if n > max {
        return Err(invalid(field, format!("is {n} characters; at most {max} are allowed")));
    }
    if let Some(c) = t.chars().find(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(*c)) {
        return Err(invalid(field, format!("contains the control character U+{:04X}", c as u32)));
    }
    Ok(t.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Known component ids, without repeats, in the order given.
fn components(field: &'static str, given: &[String], known: &[String], required: bool) -> Result<Vec<String>, FieldError> {
    if required && given.is_empty() {
        return Err(invalid(field, "name at least one component"));
    }
    let unknown: Vec<&str> = given.iter().filter(|c| !known.contains(c)).map(String::as_str).collect();
    if !unknown.is_empty() {
        return Err(invalid(field, format!("unknown components: {}", unknown.join(", "))));
    }
    let mut out: Vec<String> = Vec::new();
    for c in given {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    Ok(out)
}

pub fn validate_incident(input: &IncidentInput, known: &[String]) -> Result<NewIncident, FieldError> {
    Ok(NewIncident {
        title: title("title", &input.title)?,
        impact: input.impact.trim().parse::<Impact>().map_err(|e| invalid("impact", e.to_string()))?,
        components: components("components", &input.components, known, false)?,
        status: match input.status.as_deref().map(str::trim) {
            None | Some("") => IncidentStatus::Investigating,
            Some(s) => s.parse().map_err(|e: crate::model::UnknownName| invalid("status", e.to_string()))?,
        },
        message: message("message", &input.message, MAX_MESSAGE_CHARS)?,
    })
}

pub fn validate_update(input: &UpdateInput) -> Result<NewUpdate, FieldError> {
    Ok(NewUpdate {
        status: input.status.trim().parse().map_err(|e: crate::model::UnknownName| invalid("status", e.to_string()))?,
        message: message("message", &input.message, MAX_MESSAGE_CHARS)?,
        impact: match input.impact.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(i) => Some(i.parse().map_err(|e: crate::model::UnknownName| invalid("impact", e.to_string()))?),
        },
    })
}

/// A valid window: title, RFC 3339 times (end after start, not past, at most 31 days),
/// known components.
pub fn validate_maintenance(input: &MaintenanceInput, known: &[String], now_ms: i64) -> Result<NewMaintenance, FieldError> {
    let title = title("title", &input.title)?;
    let time = |field, v: &str| {
        parse_rfc3339(v).ok_or_else(|| invalid(field, format!("{v:?} is not a time like \"2026-12-01T22:00:00Z\"")))
    };
    let starts = time("starts_at", &input.starts_at)?;
    let ends = time("ends_at", &input.ends_at)?;
    if ends <= starts {
        return Err(invalid("ends_at", "must be after starts_at"));
    }
    if ends <= now_ms {
        return Err(invalid("ends_at", "is in the past"));
    }
    if ends - starts > MAX_WINDOW_DAYS * 86_400_000 {
        return Err(invalid("ends_at", format!("a window may last at most {MAX_WINDOW_DAYS} days")));
    }
    let components = components("components", &input.components, known, true)?;
    Ok(NewMaintenance { title, starts_ms: starts, ends_ms: ends, components })
}

/// The ids of the components the engine knows now.
pub fn known_components(engine: &Engine) -> Vec<String> {
    engine.hub().current().snapshot.components.iter().map(|c| c.id.clone()).collect()
}

async fn publish_incidents(engine: &Engine) -> Result<Shown, ActionError> {
    if let Some(cluster) = engine.cluster() {
        return Ok(crate::server::cluster::writes::after_write(cluster).await);
    }
    let active = engine.store().active_incidents().await?;
    engine.set_incidents(active).await?;
    Ok(Shown::Now)
}

async fn publish_maintenance(engine: &Engine, now: i64) -> Result<Shown, ActionError> {
    if let Some(cluster) = engine.cluster() {
        return Ok(crate::server::cluster::writes::after_write(cluster).await);
    }
    let windows = engine.store().current_maintenance(now).await?;
    engine.set_maintenance(windows).await?;
    Ok(Shown::Now)
}

pub async fn open_incident(engine: &Engine, input: &IncidentInput) -> Result<(Incident, Shown), ActionError> {
    let new = validate_incident(input, &known_components(engine))?;
    let _one_at_a_time = engine.operator_action().await;
    let incident = engine.store().open_incident(&new, now_ms()).await?;
    let shown = publish_incidents(engine).await?;
    Ok((incident, shown))
}

pub async fn update_incident(engine: &Engine, id: i64, input: &UpdateInput) -> Result<(Incident, Shown), ActionError> {
    let update = validate_update(input)?;
    let _one_at_a_time = engine.operator_action().await;
    let incident = engine.store().update_incident(id, &update, now_ms()).await.map_err(|e| match e {
        UpdateRefused::NotFound => ActionError::NotFound(format!("no incident {id}")),
        UpdateRefused::Resolved => ActionError::Conflict(format!("incident {id} is resolved; it takes no more updates")),
        UpdateRefused::Failed(e) => ActionError::Store(e),
    })?;
    let shown = publish_incidents(engine).await?;
    Ok((incident, shown))
}

pub async fn schedule_maintenance(engine: &Engine, input: &MaintenanceInput) -> Result<(MaintenanceWindow, Shown), ActionError> {
    let now = now_ms();
    let new = validate_maintenance(input, &known_components(engine), now)?;
    let _one_at_a_time = engine.operator_action().await;
    let window = engine.store().add_maintenance(&new, now).await?;
    let shown = publish_maintenance(engine, now).await?;
    Ok((window, shown))
}

pub async fn cancel_maintenance(engine: &Engine, id: i64) -> Result<Shown, ActionError> {
    let _one_at_a_time = engine.operator_action().await;
    let now = now_ms();
    match engine.store().cancel_maintenance(id, now).await? {
        false => Err(ActionError::NotFound(format!("no maintenance window {id} to cancel"))),
        true => publish_maintenance(engine, now).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        vec!["api".into(), "db".into()]
    }

    fn incident() -> IncidentInput {
        IncidentInput {
            title: "  API errors ".into(),
            impact: "major".into(),
            components: vec!["api".into(), "api".into()],
            status: None,
            message: "Looking into it.\r\nMore soon.".into(),
        }
    }

    fn field_of(r: Result<NewIncident, FieldError>) -> &'static str {
        r.expect_err("refused").field
    }

    #[test]
    fn a_valid_incident_is_trimmed_and_deduplicated() {
        let n = validate_incident(&incident(), &known()).unwrap();
        assert_eq!(n.title, "API errors");
        assert_eq!((n.impact, n.status), (Impact::Major, IncidentStatus::Investigating));
        assert_eq!(n.components, ["api"]);
        assert_eq!(n.message, "Looking into it.\nMore soon.");
    }

    #[test]
    fn every_line_break_is_kept_as_lf() {
        // Found by the fuzz target `forms`: a CR alone was kept, so "a\r\r\nb" became
        // "a\r\nb" and validating that again changed it once more.
        assert_eq!(message("message", "a\r\r\nb\rc\n\nd", 100).unwrap(), "a\n\nb\nc\n\nd");
        let once = message("message", "a\r\r\nb", 100).unwrap();
        assert_eq!(message("message", &once, 100).unwrap(), once);
    }

    #[test]
    fn each_bad_field_is_named() {
        let with = |f: fn(&mut IncidentInput)| {
            let mut i = incident();
            f(&mut i);
            field_of(validate_incident(&i, &known()))
        };
        assert_eq!(with(|i| i.title = "   ".into()), "title");
        assert_eq!(with(|i| i.title = "x".repeat(201)), "title");
        assert_eq!(with(|i| i.title = "two\nlines".into()), "title");
        assert_eq!(with(|i| i.impact = "catastrophic".into()), "impact");
        assert_eq!(with(|i| i.components = vec!["nope".into()]), "components");
        assert_eq!(with(|i| i.status = Some("fixed".into())), "status");
        assert_eq!(with(|i| i.message = String::new()), "message");
        assert_eq!(with(|i| i.message = "é".repeat(5001)), "message");
        assert_eq!(with(|i| i.message = "bell\u{7}".into()), "message");
        assert_eq!(with(|i| i.title = "Fixed \u{202E}detcapmi ton".into()), "title", "a right-to-left override");
        assert_eq!(with(|i| i.message = "ok \u{2066}isolate\u{2069}".into()), "message");
        assert_eq!(
            validate_incident(&IncidentInput { title: "مرحبا API".into(), ..incident() }, &known()).unwrap().title,
            "مرحبا API",
            "right-to-left text itself is fine"
        );
        let e = validate_incident(&IncidentInput { components: vec!["x".into()], ..incident() }, &known()).unwrap_err();
        assert_eq!(e.message, "unknown components: x");
    }

    #[test]
    fn updates_and_windows_are_checked_too() {
        let u = UpdateInput { status: "monitoring".into(), message: "Fix deployed".into(), impact: Some("".into()) };
        assert_eq!(validate_update(&u).unwrap().impact, None);
        assert_eq!(validate_update(&UpdateInput { status: "done".into(), ..u.clone() }).unwrap_err().field, "status");
        assert_eq!(validate_update(&UpdateInput { impact: Some("huge".into()), ..u }).unwrap_err().field, "impact");

        let now = parse_rfc3339("2026-11-28T10:00:00Z").unwrap();
        let w = MaintenanceInput {
            title: "DB upgrade".into(),
            starts_at: "2026-11-28T22:00:00Z".into(),
            ends_at: "2026-11-28T23:00:00Z".into(),
            components: vec!["db".into()],
        };
        assert!(validate_maintenance(&w, &known(), now).is_ok());
        let field = |w: MaintenanceInput| validate_maintenance(&w, &known(), now).unwrap_err().field;
        assert_eq!(field(MaintenanceInput { starts_at: "tomorrow".into(), ..w.clone() }), "starts_at");
        assert_eq!(field(MaintenanceInput { ends_at: "2026-11-28T21:00:00Z".into(), ..w.clone() }), "ends_at");
        assert_eq!(field(MaintenanceInput { ends_at: "2027-01-28T21:00:00Z".into(), ..w.clone() }), "ends_at");
        assert_eq!(field(MaintenanceInput { components: vec![], ..w.clone() }), "components");
        assert_eq!(field(MaintenanceInput { title: "".into(), ..w }), "title");
    }
}
