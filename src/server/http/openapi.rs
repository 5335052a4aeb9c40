//! `/api/openapi.json`: an OpenAPI 3.1 description of every endpoint under `/api/` (our own
//! `v1`, Statuspage's `v2`), the badges, the feeds and the widget, with authentication and
//! error shapes. A test beside it checks that it names exactly the routes `http::router`
//! registers for them, with their methods.

use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn param(name: &str, location: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": location, "required": location == "path", "description": description, "schema": schema })
}

/// A public read.
fn read(summary: &str, schema: Value, params: Vec<Value>, errors: &[(&str, &str)]) -> Value {
    let mut responses = Map::new();
    responses.insert("200".into(), json_response("OK", schema));
    for (code, what) in errors {
        responses.insert((*code).into(), error_response(what));
    }
    json!({ "summary": summary, "security": [], "parameters": params, "responses": responses })
}

/// An operator write (Bearer token).
fn write(summary: &str, request: Option<&str>, ok: (&str, &str), params: Vec<Value>, errors: &[(&str, &str)]) -> Value {
    let mut responses = Map::new();
    responses.insert(ok.0.into(), json_response(ok.1, json!({ "$ref": "#/components/schemas/Snapshot" })));
    responses.insert(
        "202".into(),
        json_response(
            "stored, not shown yet: several instances, and no leader published it within 5 s; it shows once one does",
            json!({ "$ref": "#/components/schemas/Snapshot" }),
        ),
    );
    for (code, what) in [
        ("400", "malformed JSON or an unknown field"),
        ("401", "missing or wrong token"),
        ("403", "the operator API is disabled (no token configured)"),
        ("413", "body over 64 KiB"),
        ("415", "not application/json"),
        ("503", "the database is unavailable (with Retry-After)"),
    ]
    .iter()
    .chain(errors)
    {
        responses.insert((*code).into(), error_response(what));
    }
    let mut op =
        json!({ "summary": summary, "security": [{ "operatorToken": [] }], "parameters": params, "responses": responses });
    if let Some(r) = request {
        op["requestBody"] = body(r);
    }
    op
}

fn statuspage(summary: &str, keys: &[&str]) -> Value {
    let mut properties = Map::new();
    properties.insert("page".into(), json!({ "$ref": "#/components/schemas/Page" }));
    for k in keys {
        properties.insert((*k).into(), json!({ "type": if *k == "status" { "object" } else { "array" } }));
    }
    let schema = json!({ "type": "object", "required": ["page"], "properties": properties });
    read(summary, schema, vec![], &[])
}

/// A public read that is not JSON (badges, feeds, the widget).
fn file(summary: &str, content_type: &str, params: Vec<Value>) -> Value {
    json!({
        "summary": summary,
        "security": [],
        "parameters": params,
        "responses": {
            "200": { "description": "OK", "content": { content_type: { "schema": { "type": "string" } } } },
            "400": error_response("a bad query (badges: label=…, style=flat|flat-square only)"),
            "404": error_response("no such component or window"),
        }
    })
}

fn badge_params(first: Option<Value>) -> Vec<Value> {
    let mut p: Vec<Value> = first.into_iter().collect();
    p.push(param("label", "query", "the left-hand text (at most 64 characters)", json!({ "type": "string", "maxLength": 64 })));
    p.push(param("style", "query", "flat (default) or flat-square", json!({ "enum": ["flat", "flat-square"] })));
    p
}

pub fn document() -> Value {
    let snapshot = json!({ "$ref": "#/components/schemas/Snapshot" });
    let id = param("id", "path", "the incident's or window's id", json!({ "type": "integer" }));
    let component = param("component", "path", "a component id", json!({ "type": "string" }));
    let level_422 = ("422", "a field is invalid (the error names it)");
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "statuscast",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Live system status. v1 is statuscast's own API (reads public, writes with the operator's Bearer token); v2 is Atlassian Statuspage's public API, field for field. Every public read may be read cross-origin. Errors are JSON {\"error\", \"field\"?}."
        },
        "paths": {
            "/api/v1/status": {
                "get": read("The current snapshot (ETag: its version; If-None-Match gives 304)", snapshot.clone(), vec![], &[]),
                "post": write("Set the operator override", Some("Override"), ("200", "the new snapshot, once stored"), vec![], &[level_422]),
                "delete": write("Clear the operator override", None, ("200", "the new snapshot"), vec![], &[]),
            },
            "/api/v1/history/{component}": {
                "get": read(
                    "Check history rollups of a component",
                    json!({ "type": "object", "properties": { "buckets": { "type": "array" } } }),
                    vec![
                        component.clone(),
                        param("span", "query", "minute, hour or day (default day)", json!({ "enum": ["minute", "hour", "day"] })),
                        param("days", "query", "1 to 400 (default 90)", json!({ "type": "integer", "minimum": 1, "maximum": 400 })),
                    ],
                    &[("400", "a bad span or days"), ("404", "no such component")],
                ),
            },
            "/api/v1/heartbeat/{component}": {
                "post": {
                    "summary": "A heartbeat check's beat",
                    "security": [{ "checkToken": [] }],
                    "parameters": [component.clone()],
                    "responses": {
                        "200": { "description": "beat recorded" },
                        "401": error_response("a wrong token, or a component without a heartbeat check (alike)"),
                    }
                }
            },
            "/api/v1/subscriptions": {
                "post": {
                    "summary": "Subscribe to incident notifications (an email address is confirmed by a link first)",
                    "security": [],
                    "requestBody": {
                        "required": true,
                        "content": { "application/json": { "schema": {
                            "type": "object",
                            "required": ["address"],
                            "properties": {
                                "channel": { "enum": ["email", "webhook"] },
                                "address": { "type": "string", "description": "an email address, or an http(s) URL on a public address" },
                                "components": { "type": "array", "items": { "type": "string" }, "description": "component ids; none: all" }
                            }
                        } } }
                    },
                    "responses": {
                        "202": { "description": "a confirmation mail is on its way, or a webhook is subscribed", "content": { "application/json": { "schema": {
                            "type": "object", "properties": { "status": { "type": "string" }, "message": { "type": "string" } }
                        } } } },
                        "200": { "description": "already subscribed, or a confirmation was sent within 10 minutes" },
                        "400": error_response("not JSON, or an unknown field"),
                        "404": error_response("this page takes no subscriptions"),
                        "415": error_response("not application/json"),
                        "413": error_response("a body over 16 KiB"),
                        "422": error_response("the channel is off, the address is not an email address or is a private or non-http(s) URL, or a component is unknown"),
                        "429": error_response("more than 20 requests from this address within the hour"),
                    }
                }
            },
            "/api/v1/maintenance": {
                "get": read("Maintenance windows active or to come", json!({ "type": "object", "properties": { "maintenance": { "type": "array" } } }), vec![], &[]),
                "post": write("Schedule a maintenance window", Some("MaintenanceInput"), ("201", "stored and published"), vec![], &[level_422]),
            },
            "/api/v1/maintenance/{id}": {
                "delete": write("Cancel a window that is not over", None, ("200", "cancelled"), vec![id.clone()], &[("404", "no such window, or it is over")]),
            },
            "/api/v1/incidents": {
                "get": read(
                    "Incidents: active, then the most recently resolved",
                    json!({ "type": "object", "properties": { "incidents": { "type": "array", "items": { "$ref": "#/components/schemas/Incident" } } } }),
                    vec![
                        param("state", "query", "active, resolved or all (default all)", json!({ "enum": ["active", "resolved", "all"] })),
                        param("limit", "query", "resolved incidents, 1 to 500 (default 50)", json!({ "type": "integer", "minimum": 1, "maximum": 500 })),
                    ],
                    &[("400", "a bad state or limit")],
                ),
                "post": write("Open an incident", Some("IncidentInput"), ("201", "stored and published"), vec![], &[level_422]),
            },
            "/api/v1/incidents/{id}": {
                "get": read("One incident with its timeline", json!({ "$ref": "#/components/schemas/Incident" }), vec![id.clone()], &[("404", "no such incident")]),
            },
            "/api/v1/incidents/{id}/updates": {
                "post": write("Add an update to an incident", Some("UpdateInput"), ("200", "stored and published"), vec![id], &[("404", "no such incident"), ("409", "already resolved"), level_422]),
            },
            "/api/v2/summary.json": { "get": statuspage("Statuspage summary: page, components, unresolved incidents, maintenance, status", &["components", "incidents", "scheduled_maintenances", "status"]) },
            "/api/v2/status.json": { "get": statuspage("Statuspage status: indicator and description", &["status"]) },
            "/api/v2/components.json": { "get": statuspage("Statuspage components (groups included)", &["components"]) },
            "/api/v2/incidents.json": { "get": statuspage("The last 50 incidents", &["incidents"]) },
            "/api/v2/incidents/unresolved.json": { "get": statuspage("Unresolved incidents", &["incidents"]) },
            "/api/v2/scheduled-maintenances.json": { "get": statuspage("The 50 most recent maintenance windows (completed too)", &["scheduled_maintenances"]) },
            "/api/v2/scheduled-maintenances/upcoming.json": { "get": statuspage("Maintenance to come", &["scheduled_maintenances"]) },
            "/api/v2/scheduled-maintenances/active.json": { "get": statuspage("Maintenance in progress", &["scheduled_maintenances"]) },
            "/api/openapi.json": { "get": read("This document", json!({ "type": "object" }), vec![], &[]) },
            "/badge.svg": { "get": file("The overall level as a badge", "image/svg+xml", badge_params(None)) },
            "/badge/{file}": { "get": file(
                "A component's level: <component>.svg, a badge, or <component>.json, shields.io's endpoint JSON (schemaVersion, label, message, color)",
                "image/svg+xml",
                badge_params(Some(param("file", "path", "<component id>.svg or <component id>.json", json!({ "type": "string" })))),
            ) },
            "/badge/{component}/uptime/{window}": { "get": file(
                "A component's uptime over 24h, 7d, 30d or 90d as a badge",
                "image/svg+xml",
                {
                    let mut p = badge_params(Some(component.clone()));
                    p.push(param("window", "path", "24h.svg, 7d.svg, 30d.svg or 90d.svg", json!({ "enum": ["24h.svg", "7d.svg", "30d.svg", "90d.svg"] })));
                    p
                },
            ) },
            "/history.atom": { "get": file("Incidents and maintenance, newest first (Atom)", "application/atom+xml", vec![]) },
            "/history.rss": { "get": file("Incidents and maintenance, newest first (RSS 2.0)", "application/rss+xml", vec![]) },
            "/embed": { "get": file("The live widget as a page for an iframe (any site may frame it)", "text/html", vec![]) },
            "/embed.js": { "get": file("The live widget's script (a static file)", "text/javascript", vec![]) },
        },
        "components": {
            "securitySchemes": {
                "operatorToken": { "type": "http", "scheme": "bearer", "description": "--admin-token / STATUSCAST_ADMIN_TOKEN" },
                "checkToken": { "type": "http", "scheme": "bearer", "description": "the heartbeat check's own token (statuscast.toml)" },
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" }, "field": { "type": "string" } } },
                "Level": { "enum": ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"] },
                "Snapshot": {
                    "type": "object",
                    "required": ["version", "level", "message", "components"],
                    "properties": {
                        "version": { "type": "integer" },
                        "level": { "$ref": "#/components/schemas/Level" },
                        "message": { "type": "string" },
                        "updated_at_ms": { "type": "integer" },
                        "components": { "type": "array" },
                        "incidents": { "type": "array", "items": { "$ref": "#/components/schemas/Incident" } },
                        "maintenance": { "type": "array" },
                    }
                },
                "Incident": {
                    "type": "object",
                    "required": ["id", "title", "impact", "status", "started_ms", "updates"],
                    "properties": {
                        "id": { "type": "integer" }, "title": { "type": "string" },
                        "impact": { "enum": ["none", "minor", "major", "critical"] },
                        "status": { "enum": ["investigating", "identified", "monitoring", "resolved"] },
                        "components": { "type": "array", "items": { "type": "string" } },
                        "started_ms": { "type": "integer" }, "resolved_ms": { "type": "integer" },
                        "updates": { "type": "array" },
                    }
                },
                "Override": {
                    "type": "object", "required": ["level", "message"], "additionalProperties": false,
                    "properties": { "level": { "$ref": "#/components/schemas/Level" }, "message": { "type": "string", "maxLength": 500 } }
                },
                "IncidentInput": {
                    "type": "object", "required": ["title", "impact", "message"], "additionalProperties": false,
                    "properties": {
                        "title": { "type": "string" }, "impact": { "enum": ["none", "minor", "major", "critical"] },
                        "components": { "type": "array", "items": { "type": "string" } },
                        "status": { "enum": ["investigating", "identified", "monitoring"] }, "message": { "type": "string" },
                    }
                },
                "UpdateInput": {
                    "type": "object", "required": ["status", "message"], "additionalProperties": false,
                    "properties": {
                        "status": { "enum": ["investigating", "identified", "monitoring", "resolved"] }, "message": { "type": "string" },
                        "impact": { "enum": ["none", "minor", "major", "critical"] },
                    }
                },
                "MaintenanceInput": {
                    "type": "object", "required": ["title", "starts_at", "ends_at"], "additionalProperties": false,
                    "properties": {
                        "title": { "type": "string" }, "starts_at": { "type": "string", "format": "date-time" },
                        "ends_at": { "type": "string", "format": "date-time" }, "components": { "type": "array", "items": { "type": "string" } },
                    }
                },
                "Page": {
                    "type": "object", "required": ["id", "name", "url", "time_zone", "updated_at"],
                    "properties": {
                        "id": { "type": "string" }, "name": { "type": "string" }, "url": { "type": "string" },
                        "time_zone": { "type": "string" }, "updated_at": { "type": "string", "format": "date-time" },
                    }
                },
            }
        }
    })
}

pub async fn serve() -> Response {
    axum::Json(document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// `(path, method)` of every route the router registers under `/api/`, read from its source.
    fn routed() -> BTreeSet<(String, String)> {
        let source = include_str!("mod.rs");
        let mut out = BTreeSet::new();
        let documented_kinds = [".route(\"/api/", ".route(\"/badge", ".route(\"/history.", ".route(\"/embed"];
        for line in source.lines().map(str::trim).filter(|l| documented_kinds.iter().any(|k| l.contains(k))) {
            let path = line.split('"').nth(1).unwrap().to_string();
            if path.contains('*') {
                continue; // the JSON 404 for everything else
            }
            for method in ["get", "post", "delete", "put", "patch"] {
                // `get(handler)`, `.post(handler)`, `routing::delete(handler)`: the method name
                // called, not part of a longer name (`api::get_status`).
                let call = format!("{method}(");
                let called = line
                    .match_indices(&call)
                    .any(|(i, _)| line[..i].chars().next_back().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')));
                if called {
                    out.insert((path.clone(), method.to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_names_exactly_the_routes_under_api_with_their_methods() {
        let doc = document();
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(path, _)| path.as_str() != "/embed.js") // a static file, not a route
            .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (path.clone(), m.clone())))
            .collect();
        let routed = routed();
        assert!(routed.len() > 20, "the router's routes were read: {routed:?}");
        assert_eq!(documented, routed, "documented vs routed");
    }

    #[test]
    fn every_operation_says_its_auth_and_every_reference_resolves() {
        let doc = document();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                assert!(op["security"].is_array(), "{method} {path}: its auth");
                assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}");
            }
        }
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(doc["components"]["schemas"].get(name).is_some(), "unresolved $ref {name}");
        }
    }
}
