//! Operator subcommands that talk to a running statuscast through its JSON API.

use crate::server::config::MaintenanceAction;
use serde_json::{json, Value};

async fn send(req: reqwest::RequestBuilder) -> Result<Value, String> {
    let res = req.send().await.map_err(|e| format!("cannot reach statuscast: {e}"))?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let message = body["error"].as_str().unwrap_or("request refused");
    Err(match body["field"].as_str() {
        Some(field) => format!("{field}: {message} (HTTP {})", status.as_u16()),
        None => format!("{message} (HTTP {})", status.as_u16()),
    })
}

/// `statuscast maintenance add|list|cancel`.
pub async fn maintenance(action: MaintenanceAction, url: &str, token: Option<String>) -> Result<(), String> {
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/maintenance", url.trim_end_matches('/'));
    let authed = |req: reqwest::RequestBuilder| match &token {
        Some(t) => Ok(req.bearer_auth(t)),
        None => Err("set STATUSCAST_ADMIN_TOKEN (or --token)".to_string()),
    };
    match action {
        MaintenanceAction::Add { title, starts, ends, components } => {
            let body = json!({ "title": title, "starts_at": starts, "ends_at": ends, "components": components });
            let w = send(authed(client.post(&base))?.json(&body)).await?;
            println!("scheduled #{}: {} from {} to {} ({})", w["id"], w["title"].as_str().unwrap_or(""), w["starts_at"].as_str().unwrap_or(""), w["ends_at"].as_str().unwrap_or(""), components_of(&w));
        }
        MaintenanceAction::List => {
            let list = send(client.get(&base)).await?;
            let windows = list["maintenance"].as_array().cloned().unwrap_or_default();
            if windows.is_empty() {
                println!("no maintenance scheduled");
            }
            for w in windows {
                let state = if w["active"] == true { "active" } else { "scheduled" };
                println!("#{} {state}: {} from {} to {} ({})", w["id"], w["title"].as_str().unwrap_or(""), w["starts_at"].as_str().unwrap_or(""), w["ends_at"].as_str().unwrap_or(""), components_of(&w));
            }
        }
        MaintenanceAction::Cancel { id } => {
            send(authed(client.delete(format!("{base}/{id}")))?).await?;
            println!("cancelled #{id}");
        }
    }
    Ok(())
}

fn components_of(w: &Value) -> String {
    w["components"].as_array().map(|cs| cs.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()
}
