//! Subscribing from the status page: a plain form (no island, so no code in the browser
//! bundle; it works without JavaScript) and the page that answers it, its confirmation link
//! and its unsubscribe link.

use leptos::prelude::*;

/// What the page offers (from `[subscriptions]`); nothing: no form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubscribeOffer {
    pub email: bool,
    pub webhook: bool,
    /// (id, name) of each component, to choose from.
    pub components: Vec<(String, String)>,
}

/// The answer to a subscription step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionOutcome {
    pub ok: bool,
    pub title: String,
    pub message: String,
    /// The form again (after a refusal).
    pub offer: Option<SubscribeOffer>,
}

/// The form on the status page.
#[component]
pub fn SubscribeForm(offer: SubscribeOffer) -> impl IntoView {
    let SubscribeOffer { email, webhook, components } = offer;
    let channel = move |value: &'static str, label: &'static str, on: bool, checked: bool| {
        on.then(|| {
            view! {
                <label class="subscribe-channel">
                    <input type="radio" name="channel" value=value checked=checked/>
                    " " {label}
                </label>
            }
        })
    };
    let choices = components
        .into_iter()
        .map(|(id, name)| {
            view! {
                <label class="subscribe-component">
                    <input type="checkbox" name="component" value=id/>
                    " " {name}
                </label>
            }
        })
        .collect_view();
    let placeholder = match (email, webhook) {
        (true, true) => "you@example.com or https://…",
        (false, true) => "https://example.com/hooks/status",
        _ => "you@example.com",
    };
    view! {
        <section class="subscribe" id="subscribe">
            <h2>"Get notified"</h2>
            <p>"Be told when an incident is opened, updated or resolved."</p>
            <form method="post" action="/subscribe" class="subscribe-form">
                <fieldset class="subscribe-channels">
                    <legend>"By"</legend>
                    {channel("email", "Email", email, email)}
                    {channel("webhook", "Webhook", webhook, !email)}
                </fieldset>
                <label>
                    "Address "
                    <input type="text" name="address" required=true maxlength="500" placeholder=placeholder autocomplete="email"/>
                </label>
                <details class="subscribe-components">
                    <summary>"Only some components (default: all)"</summary>
                    {choices}
                </details>
                <button type="submit">"Subscribe"</button>
            </form>
        </section>
    }
}

/// The page answering a subscription step.
#[component]
pub fn SubscriptionPage(outcome: SubscriptionOutcome) -> impl IntoView {
    let SubscriptionOutcome { ok, title, message, offer } = outcome;
    view! {
        <section class=if ok { "subscription ok" } else { "subscription refused" }>
            <h1>{title}</h1>
            <p class="subscription-message" role=if ok { "status" } else { "alert" }>{message}</p>
            {offer.map(|offer| view! { <SubscribeForm offer/> })}
            <p><a href="/">"Back to the status page"</a></p>
        </section>
    }
}
