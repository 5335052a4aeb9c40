//! The overall level and message of the snapshot.
//!
//! Overall precedence, highest first:
//! 1. an operator override (its level and message, whatever the components say);
//! 2. the worst of the component levels (see [`Level`]'s severity order; components in a
//!    maintenance window are `under_maintenance`) and of the active incidents' impacts
//!    ([`Impact::level`](crate::model::Impact::level)); the message names the incidents at
//!    that level, else the components at that level;
//! 3. with no components and no incidents: operational.

use crate::model::{ComponentStatus, Incident, Level, Override};

/// The overall level and message, by the precedence in this module's documentation.
pub fn derive_overall(components: &[ComponentStatus], incidents: &[Incident], operator: Option<&Override>) -> (Level, String) {
    if let Some(o) = operator {
        return (o.level, o.message.clone());
    }
    let worst_component = components.iter().map(|c| c.level).max().unwrap_or(Level::Operational);
    let worst_incident = incidents.iter().map(|i| i.impact.level()).max().unwrap_or(Level::Operational);
    let worst = worst_component.max(worst_incident);
    if worst == Level::Operational {
        return (worst, worst.headline().to_string());
    }
    if worst_incident == worst {
        let titles: Vec<&str> = incidents.iter().filter(|i| i.impact.level() == worst).map(|i| i.title.as_str()).collect();
        return (worst, titles.join("; "));
    }
    let names: Vec<&str> = components.iter().filter(|c| c.level == worst).map(|c| c.name.as_str()).collect();
    (worst, format!("{}: {}", worst.label(), names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(id: &str, level: Level) -> ComponentStatus {
        ComponentStatus { level, reason: format!("{id} is {level}"), ..ComponentStatus::named(id, &id.to_uppercase()) }
    }

    #[test]
    fn overall_is_the_worst_component_naming_them() {
        let cs = [
            component("a", Level::Operational),
            component("b", Level::PartialOutage),
            component("c", Level::DegradedPerformance),
            component("d", Level::PartialOutage),
        ];
        assert_eq!(derive_overall(&cs, &[], None), (Level::PartialOutage, "Partial outage: B, D".into()));
        assert_eq!(derive_overall(&cs[..1], &[], None), (Level::Operational, "All systems operational".into()));
        assert_eq!(derive_overall(&[], &[], None).0, Level::Operational);
    }

    #[test]
    fn maintenance_is_outranked_by_real_failures() {
        let cs = [component("a", Level::UnderMaintenance), component("b", Level::DegradedPerformance)];
        assert_eq!(derive_overall(&cs, &[], None).0, Level::DegradedPerformance);
        assert_eq!(derive_overall(&cs[..1], &[], None).0, Level::UnderMaintenance);
    }

    #[test]
    fn the_operator_override_wins_both_ways() {
        let o = Override { level: Level::Operational, message: "fine, really".into(), set_at_ms: 1 };
        let cs = [component("a", Level::MajorOutage)];
        assert_eq!(derive_overall(&cs, &[], Some(&o)), (Level::Operational, "fine, really".into()));
        let o = Override { level: Level::MajorOutage, message: "we know".into(), set_at_ms: 1 };
        assert_eq!(derive_overall(&[], &[], Some(&o)).0, Level::MajorOutage);
    }

    fn incident(title: &str, impact: crate::model::Impact) -> Incident {
        Incident {
            id: 1,
            title: title.into(),
            impact,
            components: vec![],
            status: crate::model::IncidentStatus::Investigating,
            started_ms: 1,
            resolved_ms: None,
            updates: vec![],
        }
    }

    #[test]
    fn an_incident_raises_the_overall_level_to_its_impact() {
        use crate::model::Impact;
        let cs = [component("a", Level::DegradedPerformance)];
        let major = [incident("Checkout errors", Impact::Major)];
        assert_eq!(derive_overall(&cs, &major, None), (Level::PartialOutage, "Checkout errors".into()));
        // A lesser incident does not hide a worse component.
        let down = [component("a", Level::MajorOutage)];
        assert_eq!(derive_overall(&down, &major, None), (Level::MajorOutage, "Major outage: A".into()));
        // Impact none informs without raising the level.
        let none = [incident("Slow emails", Impact::None)];
        assert_eq!(derive_overall(&[], &none, None).0, Level::Operational);
        let o = Override { level: Level::Operational, message: "ok".into(), set_at_ms: 1 };
        assert_eq!(derive_overall(&cs, &major, Some(&o)).0, Level::Operational, "the override still wins");
    }
}
