//! Operator subcommands that talk to a running statuscast through its JSON API.

use crate::cli::{IncidentAction, MaintenanceAction};
use serde_json::{json, Value};

/// Why an operator command did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach statuscast: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// statuscast refused the request; `message` is its error (naming the field).
    #[error("{message} (HTTP {status})")]
    Refused { status: u16, message: String },
    #[error("set STATUSCAST_ADMIN_TOKEN (or --token)")]
    NoToken,
}

async fn send(req: reqwest::RequestBuilder) -> Result<Value, ClientError> {
    let res = req.send().await?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let message = body["error"].as_str().unwrap_or("request refused");
    let message = match body["field"].as_str().filter(|f| !message.starts_with(&format!("{f}:"))) {
        Some(field) => format!("{field}: {message}"),
        None => message.to_string(),
    };
    Err(ClientError::Refused { status: status.as_u16(), message })
}

/// `statuscast maintenance add|list|cancel`.
pub async fn maintenance(action: MaintenanceAction, url: &str, token: Option<String>) -> Result<(), ClientError> {
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/maintenance", url.trim_end_matches('/'));
    let authed = |req| authed(req, &token);
    match action {
        MaintenanceAction::Add { title, starts, ends, components } => {
            let body = json!({ "title": title, "starts_at": starts, "ends_at": ends, "components": components });
            let w = send(authed(client.post(&base))?.json(&body)).await?;
            println!(
                "scheduled #{}: {} from {} to {} ({})",
                w["id"],
                w["title"].as_str().unwrap_or(""),
                w["starts_at"].as_str().unwrap_or(""),
                w["ends_at"].as_str().unwrap_or(""),
                components_of(&w)
            );
        }
        MaintenanceAction::List => {
            let list = send(client.get(&base)).await?;
            let windows = list["maintenance"].as_array().cloned().unwrap_or_default();
            if windows.is_empty() {
                println!("no maintenance scheduled");
            }
            for w in windows {
                let state = if w["active"] == true { "active" } else { "scheduled" };
                println!(
                    "#{} {state}: {} from {} to {} ({})",
                    w["id"],
                    w["title"].as_str().unwrap_or(""),
                    w["starts_at"].as_str().unwrap_or(""),
                    w["ends_at"].as_str().unwrap_or(""),
                    components_of(&w)
                );
            }
        }
        MaintenanceAction::Cancel { id } => {
            send(authed(client.delete(format!("{base}/{id}")))?).await?;
            println!("cancelled #{id}");
        }
    }
    Ok(())
}

fn authed(req: reqwest::RequestBuilder, token: &Option<String>) -> Result<reqwest::RequestBuilder, ClientError> {
    match token {
        Some(t) => Ok(req.bearer_auth(t)),
        None => Err(ClientError::NoToken),
    }
}

fn print_incident(i: &Value) {
    let text = |k: &str| i[k].as_str().unwrap_or("").to_string();
    let latest = i["updates"][0]["message"].as_str().unwrap_or("");
    println!("#{} [{}] {} (impact {}; {})", i["id"], text("status"), text("title"), text("impact"), components_of(i));
    println!("    {}", latest.replace('\n', "\n    "));
}

/// `statuscast incident open|update|resolve|list`.
pub async fn incident(action: IncidentAction, url: &str, token: Option<String>) -> Result<(), ClientError> {
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/incidents", url.trim_end_matches('/'));
    match action {
        IncidentAction::Open { title, impact, message, status, components } => {
            let body =
                json!({ "title": title, "impact": impact, "message": message, "status": status, "components": components });
            let i = send(authed(client.post(&base), &token)?.json(&body)).await?;
            print_incident(&i);
        }
        IncidentAction::Update { id, status, message, impact } => {
            let body = json!({ "status": status, "message": message, "impact": impact });
            let i = send(authed(client.post(format!("{base}/{id}/updates")), &token)?.json(&body)).await?;
            print_incident(&i);
        }
        IncidentAction::Resolve { id, message } => {
            let body = json!({ "status": "resolved", "message": message });
            let i = send(authed(client.post(format!("{base}/{id}/updates")), &token)?.json(&body)).await?;
            print_incident(&i);
        }
        IncidentAction::List { resolved } => {
            let state = if resolved { "all" } else { "active" };
            let list = send(client.get(&base).query(&[("state", state)])).await?;
            let incidents = list["incidents"].as_array().cloned().unwrap_or_default();
            if incidents.is_empty() {
                println!("no incidents");
            }
            for i in &incidents {
                print_incident(i);
            }
        }
    }
    Ok(())
}

fn components_of(w: &Value) -> String {
    w["components"].as_array().map(|cs| cs.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()
}
