//! One delivery attempt: the message its target takes (built from its event, the page and
//! the incident as they stand), sent by the target's channel.

use super::address::AddressGuard;
use super::config::{Channel, Smtp};
use super::deliver::{Poster, SendError};
use super::event::{ComponentNotice, Notice, PageInfo};
use super::smtp::Mailer;
use super::{mail, payload, Notifier};
use crate::model::IncidentUpdate;
use crate::server::store::outbox::{Claim, SubscriberChannel};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug)]
pub struct Failure {
    pub error: String,
    pub retryable: bool,
}

impl Failure {
    fn permanent(error: impl Into<String>) -> Failure {
        Failure { error: error.into(), retryable: false }
    }
    fn store(e: crate::server::store::StoreError) -> Failure {
        Failure { error: e.to_string(), retryable: true }
    }
}

impl From<SendError> for Failure {
    fn from(e: SendError) -> Failure {
        Failure { retryable: e.retryable(), error: e.to_string() }
    }
}

/// What the channels share across attempts: the HTTP clients, one mail transport (with its
/// pool of connections) per SMTP server, and the last notice built (a thousand deliveries of
/// one event build it once).
pub struct Transports {
    poster: Poster,
    mailers: Mutex<HashMap<Smtp, Arc<Mailer>>>,
    notice: Mutex<Option<Arc<Notice>>>,
}

/// A subscriber's links (the page's address must be configured).
struct Links {
    confirm: String,
    unsubscribe: String,
}

impl Transports {
    pub fn new() -> Transports {
        let poster = Poster::new(Poster::TIMEOUT).expect("the HTTP client builds (rustls, its own roots)");
        Transports { poster, mailers: Mutex::default(), notice: Mutex::default() }
    }

    fn mailer(&self, smtp: &Smtp) -> Result<Arc<Mailer>, Failure> {
        let mut mailers = self.mailers.lock().unwrap();
        if let Some(m) = mailers.get(smtp) {
            return Ok(m.clone());
        }
        let mailer = Arc::new(Mailer::new(smtp)?);
        mailers.insert(smtp.clone(), mailer.clone());
        Ok(mailer)
    }

    fn page(&self, notifier: &Notifier) -> PageInfo {
        let page = notifier.checks.page();
        let current = notifier.engine.hub().current();
        PageInfo { name: page.name, url: page.url, level: current.snapshot.level, description: current.snapshot.message.clone() }
    }

    /// The notice of an event: the component's name, or the incident as it stood then.
    async fn notice(&self, notifier: &Notifier, event_id: i64) -> Result<Arc<Notice>, Failure> {
        if let Some(n) = self.notice.lock().unwrap().as_ref().filter(|n| n.event_id == event_id) {
            return Ok(n.clone());
        }
        let store = notifier.store();
        let event =
            store.event(event_id).await.map_err(Failure::store)?.ok_or_else(|| Failure::permanent("the event is gone"))?;
        let snapshot = notifier.engine.hub().current().snapshot.clone();
        let name_of = |id: &str| crate::model::component_name(&snapshot.components, id).to_string();
        let component = match (&event.component, event.old_level, event.new_level) {
            (Some(id), Some(old), Some(new)) => {
                Some(ComponentNotice { id: id.clone(), name: name_of(id), old, new, since_ms: event.at_ms })
            }
            _ => None,
        };
        let (incident, update) = match event.incident_id {
            Some(id) => {
                let mut incident = store
                    .incident(id)
                    .await
                    .map_err(Failure::store)?
                    .ok_or_else(|| Failure::permanent("the incident is gone"))?;
                // As it stood when the event happened: later updates are theirs to tell.
                incident.updates.retain(|u| u.at_ms <= event.at_ms);
                let update = event.status.map(|status| IncidentUpdate {
                    at_ms: event.at_ms,
                    status,
                    message: event.message.clone().unwrap_or_default(),
                });
                if let Some(u) = &update {
                    incident.status = u.status;
                }
                (Some(incident), update)
            }
            None => (None, None),
        };
        let component_names = incident.as_ref().map(|i| i.components.iter().map(|c| name_of(c)).collect()).unwrap_or_default();
        let notice = Arc::new(Notice {
            event_id,
            kind: event.kind,
            at_ms: event.at_ms,
            page: self.page(notifier),
            component,
            incident,
            update,
            component_names,
        });
        *self.notice.lock().unwrap() = Some(notice.clone());
        Ok(notice)
    }

    /// Sends one claimed delivery.
    pub async fn deliver(&self, notifier: &Notifier, claim: &Claim) -> Result<(), Failure> {
        // The same for every attempt of this delivery: receivers drop repeats by it.
        let id = format!("statuscast-{}", claim.id);
        let config = notifier.config();
        if let Some(name) = claim.target.strip_prefix("notify:") {
            let entry = config
                .entries
                .iter()
                .find(|e| e.name == name)
                .ok_or_else(|| Failure::permanent(format!("no [[notify]] entry named {name:?} in the configuration now")))?;
            let event_id = claim.event_id.ok_or_else(|| Failure::permanent("nothing to send"))?;
            let notice = self.notice(notifier, event_id).await?;
            return self.send(&entry.channel, &notice, &id).await;
        }
        let subscriber = claim.subscriber.as_ref().ok_or_else(|| Failure::permanent("unsubscribed"))?;
        let links = notifier.checks.page().url.map(|u| Links {
            confirm: format!("{u}/subscribe/confirm?token={}", subscriber.token),
            unsubscribe: format!("{u}/unsubscribe?token={}", subscriber.token),
        });
        match subscriber.channel {
            SubscriberChannel::Email => {
                let smtp =
                    config.subscriptions.email.as_ref().ok_or_else(|| Failure::permanent("email subscriptions are off"))?;
                let links = links.ok_or_else(|| Failure::permanent("[page] url is not set: no links to put in the mail"))?;
                let mail = match claim.event_id {
                    None => mail::confirmation(&self.page(notifier), &links.confirm, &links.unsubscribe, &subscriber.components),
                    Some(_) if subscriber.confirmed_ms.is_none() => return Err(Failure::permanent("not confirmed")),
                    Some(event_id) => mail::notice(&*self.notice(notifier, event_id).await?, Some(&links.unsubscribe)),
                };
                let mailer = self.mailer(smtp)?;
                mailer.send(&subscriber.address, &mail, Some(&links.unsubscribe), &id).await?;
                Ok(())
            }
            SubscriberChannel::Webhook => {
                if !config.subscriptions.webhook {
                    return Err(Failure::permanent("webhook subscriptions are off"));
                }
                let event_id = claim.event_id.ok_or_else(|| Failure::permanent("nothing to send"))?;
                let notice = self.notice(notifier, event_id).await?;
                let body = payload::webhook(&notice, links.as_ref().map(|l| l.unsubscribe.as_str()));
                let guard = if notifier.allow_private() { AddressGuard::Any } else { AddressGuard::Public };
                self.post_json(&subscriber.address, &body, &notice, None, &id, guard).await
            }
        }
    }

    /// Sends a notice to an operator's channel.
    async fn send(&self, channel: &Channel, notice: &Notice, id: &str) -> Result<(), Failure> {
        match channel {
            Channel::Webhook { url, secret } => {
                self.post_json(url, &payload::webhook(notice, None), notice, secret.as_deref(), id, AddressGuard::Any).await
            }
            Channel::Slack { url } => self.post_json(url, &payload::slack(notice), notice, None, id, AddressGuard::Any).await,
            Channel::Discord { url } => self.post_json(url, &payload::discord(notice), notice, None, id, AddressGuard::Any).await,
            Channel::Ntfy { url, token, priority } => {
                let m = payload::ntfy(notice, *priority);
                let mut headers = m.headers();
                if let Some(token) = token {
                    headers.push(("Authorization".to_string(), format!("Bearer {token}")));
                }
                headers.push(("X-Statuscast-Delivery".to_string(), id.to_string()));
                self.poster.post(url, m.body.into_bytes(), "text/plain; charset=utf-8", &headers, AddressGuard::Any).await?;
                Ok(())
            }
            Channel::Email { smtp, to } => {
                let mail = mail::notice(notice, None);
                let mailer = self.mailer(smtp)?;
                for (i, address) in to.iter().enumerate() {
                    mailer.send(address, &mail, None, &format!("{id}.{i}")).await?;
                }
                Ok(())
            }
        }
    }

    /// A JSON body with the event's name, the delivery's id (`Idempotency-Key`) and, with a
    /// secret, its signature (`X-Statuscast-Signature: sha256=<HMAC of the body>`).
    async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        notice: &Notice,
        secret: Option<&str>,
        id: &str,
        guard: AddressGuard,
    ) -> Result<(), Failure> {
        let body = serde_json::to_vec(body).expect("JSON values serialise");
        let mut headers = vec![
            ("Idempotency-Key".to_string(), id.to_string()),
            ("X-Statuscast-Event".to_string(), notice.kind.as_str().to_string()),
        ];
        if let Some(secret) = secret {
            headers.push(("X-Statuscast-Signature".to_string(), super::deliver::signature(secret, &body)));
        }
        self.poster.post(url, body, "application/json", &headers, guard).await?;
        Ok(())
    }
}
