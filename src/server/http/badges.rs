//! Badges: `/badge.svg` (the overall level), `/badge/<component>.svg` (its level),
//! `/badge/<component>/uptime/<24h|7d|30d|90d>.svg`, in shields.io's flat and flat-square
//! styles, with `?label=` and `?style=`; and shields.io's endpoint JSON at
//! `/badge/<component>.json`, for a shields.io badge of its own styling.
//!
//! Text is measured with Verdana's advance widths at 11 px (what the badge asks for), and
//! each text also carries `textLength`, so a reader without Verdana squeezes the glyphs into
//! the measured box instead of overflowing it.

use crate::model::Level;
use crate::server::http::error::ApiError;
use crate::server::store::Span;
use crate::server::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BadgeQuery {
    label: Option<String>,
    style: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Flat,
    FlatSquare,
}

fn query(q: Result<Query<BadgeQuery>, QueryRejection>) -> Result<BadgeQuery, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "a badge takes label=… and style=flat|flat-square only"))
}

fn style(q: &BadgeQuery) -> Result<Style, ApiError> {
    match q.style.as_deref() {
        None | Some("flat") => Ok(Style::Flat),
        Some("flat-square") => Ok(Style::FlatSquare),
        Some(other) => {
            Err(ApiError::field(StatusCode::BAD_REQUEST, "style", format!("unknown style {other:?}; use flat or flat-square")))
        }
    }
}

fn label(q: &BadgeQuery, default: &str) -> Result<String, ApiError> {
    let l = q.label.clone().unwrap_or_else(|| default.to_string());
    if l.chars().count() > 64 || l.chars().any(char::is_control) {
        return Err(ApiError::field(StatusCode::BAD_REQUEST, "label", "a label is at most 64 characters, no control characters"));
    }
    Ok(l)
}

/// Verdana's advance width at 11 px, in tenths of a pixel, for one character.
fn advance(c: char) -> u32 {
    match c {
        ' ' => 39,
        'i' | 'l' | 'I' | '|' | '!' | '\'' => 30,
        'j' | 'f' | 't' | '.' | ',' | ':' | ';' => 42,
        'r' | '(' | ')' | '[' | ']' | '-' | '/' => 48,
        'c' | 's' | 'z' | 'J' => 58,
        'm' => 107,
        'w' => 90,
        'M' | 'W' | '%' => 120,
        '0'..='9' => 70,
        'a'..='z' => 68,
        'A'..='Z' => 80,
        c if c.is_ascii() => 75,
        _ => 110, // wide enough for most scripts; textLength keeps it in its box anyway
    }
}

/// The width of `text` in whole pixels.
pub fn text_width(text: &str) -> u32 {
    text.chars().map(advance).sum::<u32>().div_ceil(10)
}

fn esc(s: &str) -> String {
    crate::server::http::feeds::xml_escape(s)
}

/// The badge: `label` on grey, `message` on `color`.
pub fn svg(label: &str, message: &str, color: &str, style: Style) -> String {
    let (lt, mt) = (text_width(label), text_width(message));
    let (lw, mw) = (lt + 10, mt + 10);
    let w = lw + mw;
    let (label_e, message_e) = (esc(label), esc(message));
    let (rx, gradient, fill) = match style {
        Style::Flat => (
            "3",
            "<linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>",
            format!("<rect width=\"{w}\" height=\"20\" fill=\"url(#s)\"/>"),
        ),
        Style::FlatSquare => ("0", "", String::new()),
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" aria-label=\"{label_e}: {message_e}\">\
         <title>{label_e}: {message_e}</title>{gradient}\
         <clipPath id=\"r\"><rect width=\"{w}\" height=\"20\" rx=\"{rx}\" fill=\"#fff\"/></clipPath>\
         <g clip-path=\"url(#r)\"><rect width=\"{lw}\" height=\"20\" fill=\"#555\"/><rect x=\"{lw}\" width=\"{mw}\" height=\"20\" fill=\"{color}\"/>{fill}</g>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"11\">\
         <text x=\"{}\" y=\"14\" textLength=\"{lt}\" lengthAdjust=\"spacingAndGlyphs\">{label_e}</text>\
         <text x=\"{}\" y=\"14\" textLength=\"{mt}\" lengthAdjust=\"spacingAndGlyphs\">{message_e}</text></g></svg>",
        lw as f64 / 2.0,
        lw as f64 + mw as f64 / 2.0,
    )
}

fn level_color(level: Option<Level>) -> (&'static str, &'static str) {
    // (shields.io colour name, hex)
    match level {
        Some(Level::Operational) => ("brightgreen", "#4c1"),
        Some(Level::DegradedPerformance) => ("yellow", "#dfb317"),
        Some(Level::PartialOutage) => ("orange", "#fe7d37"),
        Some(Level::MajorOutage) => ("red", "#e05d44"),
        Some(Level::UnderMaintenance) => ("blue", "#007ec6"),
        None => ("lightgrey", "#9f9f9f"),
    }
}

fn uptime_color(p: Option<f64>) -> &'static str {
    match p {
        None => "#9f9f9f",
        Some(p) if p >= 99.9 => "#4c1",
        Some(p) if p >= 99.0 => "#97ca00",
        Some(p) if p >= 95.0 => "#dfb317",
        Some(p) if p >= 90.0 => "#fe7d37",
        Some(_) => "#e05d44",
    }
}

fn svg_response(body: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml; charset=utf-8"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=30"));
    res
}

fn unknown_component(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no component {id:?}"))
}

/// `/badge.svg`.
pub async fn overall(State(state): State<AppState>, q: Result<Query<BadgeQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let q = query(q)?;
    let s = state.hub.current();
    let (_, color) = level_color(Some(s.snapshot.level));
    Ok(svg_response(svg(&label(&q, "status")?, s.snapshot.level.label(), color, style(&q)?)))
}

/// `/badge/<component>.svg` and `/badge/<component>.json`.
pub async fn component(
    State(state): State<AppState>,
    Path(file): Path<String>,
    q: Result<Query<BadgeQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let (id, json) = match (file.strip_suffix(".svg"), file.strip_suffix(".json")) {
        (Some(id), _) => (id, false),
        (_, Some(id)) => (id, true),
        _ => return Err(ApiError::new(StatusCode::NOT_FOUND, "a badge is <component>.svg or <component>.json")),
    };
    let s = state.hub.current();
    let c = s.snapshot.components.iter().find(|c| c.id == id).ok_or_else(|| unknown_component(id))?;
    let (name, hex) = level_color(Some(c.level));
    let label = label(&q, &c.name)?;
    if json {
        let body = serde_json::json!({ "schemaVersion": 1, "label": label, "message": c.level.label(), "color": name });
        let mut res = axum::Json(body).into_response();
        res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=30"));
        return Ok(res);
    }
    Ok(svg_response(svg(&label, c.level.label(), hex, style(&q)?)))
}

/// `/badge/<component>/uptime/<24h|7d|30d|90d>.svg`.
pub async fn uptime(
    State(state): State<AppState>,
    Path((id, window)): Path<(String, String)>,
    q: Result<Query<BadgeQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let (span, hours) = match window.as_str() {
        "24h.svg" => (Span::Hour, 24),
        "7d.svg" => (Span::Hour, 7 * 24),
        "30d.svg" => (Span::Day, 30 * 24),
        "90d.svg" => (Span::Day, 90 * 24),
        _ => {
            return Err(ApiError::field(
                StatusCode::NOT_FOUND,
                "window",
                "an uptime badge is 24h.svg, 7d.svg, 30d.svg or 90d.svg",
            ))
        }
    };
    let s = state.hub.current();
    let c = s.snapshot.components.iter().find(|c| c.id == id).ok_or_else(|| unknown_component(&id))?;
    let since = crate::server::clock::now_ms() - hours * 3_600_000;
    let buckets = state.engine.store().history(&c.id, span, since).await?;
    let p = crate::server::http::uptime::uptime(&buckets).map(|(p, _)| p);
    let message = p.map_or("no data".to_string(), |p| format!("{}%", crate::server::http::uptime::percent(p)));
    let default_label = format!("uptime {}", window.trim_end_matches(".svg"));
    Ok(svg_response(svg(&label(&q, &default_label)?, &message, uptime_color(p), style(&q)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_grow_with_the_text_and_the_badge_holds_both_texts() {
        assert!(text_width("Operational") > text_width("Down"));
        assert_eq!(text_width(""), 0);
        let b = svg("status", "Operational", "#4c1", Style::Flat);
        let w = 20 + text_width("status") + text_width("Operational");
        assert!(b.starts_with(&format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\"")), "{b}");
        assert!(b.contains("textLength=") && b.contains("rx=\"3\""));
        assert!(svg("a", "b", "#4c1", Style::FlatSquare).contains("rx=\"0\""));
    }

    #[test]
    fn labels_are_escaped() {
        let b = svg("<script>", "x&y", "#4c1", Style::Flat);
        assert!(!b.contains("<script>") && b.contains("&lt;script&gt;") && b.contains("x&amp;y"));
    }
}
