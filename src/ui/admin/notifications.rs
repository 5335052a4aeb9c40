//! The admin area's notifications: the viewers' subscriptions (each with a button to remove
//! it) and the delivery log, newest first, failures marked. Drawn on the server (no island,
//! no code in a browser bundle); its one form is a plain post carrying the CSRF token.

use crate::model::utc_minute;
use leptos::prelude::*;

/// One subscriber as the admin area lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriberRow {
    pub id: i64,
    pub channel: &'static str,
    pub address: String,
    /// Component names; empty: all.
    pub components: Vec<String>,
    pub confirmed: bool,
    pub created_ms: i64,
}

/// One delivery as the log shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: i64,
    /// `incident.opened`, ..., or `confirmation`.
    pub event: String,
    /// The entry's name or the subscriber's address.
    pub target: String,
    pub state: String,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_ms: i64,
    /// When it is tried again (pending).
    pub next_ms: i64,
}

/// What the panel shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Panel {
    pub subscribers: Vec<SubscriberRow>,
    pub subscriber_total: i64,
    pub deliveries: Vec<DeliveryRow>,
    pub sent: i64,
    pub failed: i64,
    pub pending: i64,
    /// The outbox could not be read.
    pub failed_to_read: bool,
}

#[component]
pub fn NotificationsPanel(panel: Panel, csrf: String) -> impl IntoView {
    let Panel { subscribers, subscriber_total, deliveries, sent, failed, pending, failed_to_read } = panel;
    let unreadable =
        failed_to_read.then(|| view! { <p class="notice error">"The notifications could not be read from the database."</p> });
    let shown = subscribers.len() as i64;
    let subscriber_rows = subscribers
        .into_iter()
        .map(|s| {
            let components = if s.components.is_empty() { "all".to_string() } else { s.components.join(", ") };
            let csrf = csrf.clone();
            view! {
                <tr data-subscriber=s.id>
                    <td>{s.address}</td>
                    <td>{s.channel}</td>
                    <td>{components}</td>
                    <td>{if s.confirmed { "confirmed" } else { "awaiting confirmation" }}</td>
                    <td><time>{utc_minute(s.created_ms)}</time></td>
                    <td>
                        <form method="post" action="/admin/subscribers/remove" class="inline">
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="id" value=s.id/>
                            <button type="submit">"Remove"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let delivery_rows = deliveries
        .into_iter()
        .map(|d| {
            let state = match (d.state.as_str(), d.error.is_some()) {
                ("pending", true) => format!("retrying (next {})", utc_minute(d.next_ms)),
                (s, _) => s.to_string(),
            };
            view! {
                <tr class=format!("delivery-{}", d.state) data-delivery=d.id>
                    <td><time>{utc_minute(d.created_ms)}</time></td>
                    <td>{d.event}</td>
                    <td>{d.target}</td>
                    <td>{state}</td>
                    <td>{d.attempts}</td>
                    <td class="delivery-error">{d.error}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="notifications" id="notifications">
            <h2>"Notifications"</h2>
            {unreadable}
            <p class="delivery-counts">
                {format!("Deliveries in the last 30 days: {sent} sent, {failed} failed, {pending} pending.")}
            </p>
            <h3>{format!("Subscribers ({subscriber_total}, newest {shown} shown)")}</h3>
            <table class="subscribers">
                <thead><tr><th>"Address"</th><th>"By"</th><th>"Components"</th><th>"State"</th><th>"Since (UTC)"</th><th></th></tr></thead>
                <tbody>{subscriber_rows}</tbody>
            </table>
            <h3>"Delivery log"</h3>
            <table class="deliveries">
                <thead><tr><th>"Written (UTC)"</th><th>"Event"</th><th>"To"</th><th>"State"</th><th>"Attempts"</th><th>"Last error"</th></tr></thead>
                <tbody>{delivery_rows}</tbody>
            </table>
        </section>
    }
}
