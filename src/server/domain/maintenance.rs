//! Scheduled maintenance: windows during which listed components are `under_maintenance`,
//! whatever their checks say (the operator override still decides the overall level above
//! them). Windows start and end on time by themselves: the engine re-evaluates them every
//! second (see `spawn_clock`).

use crate::model::{ComponentStatus, Level, MaintenanceWindow};

/// The components as reported, with those in an active window put under maintenance.
pub fn apply(components: &[ComponentStatus], windows: &[MaintenanceWindow], now_ms: i64) -> Vec<ComponentStatus> {
    components
        .iter()
        .map(|c| match windows.iter().find(|w| w.active_at(now_ms) && w.components.contains(&c.id)) {
            None => c.clone(),
            Some(w) => ComponentStatus {
                level: Level::UnderMaintenance,
                reason: format!("{} (maintenance until {})", w.title, crate::server::clock::rfc3339(w.ends_ms)),
                ..c.clone()
            },
        })
        .collect()
}

/// Which windows are active at `now_ms` (to notice a start or an end).
pub fn active_ids(windows: &[MaintenanceWindow], now_ms: i64) -> Vec<i64> {
    windows.iter().filter(|w| w.active_at(now_ms)).map(|w| w.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_windows_put_their_components_under_maintenance() {
        let c = |id: &str| ComponentStatus {
            id: id.into(),
            name: id.into(),
            group: None,
            level: Level::MajorOutage,
            reason: "down".into(),
            since_ms: 0,
            checked_at_ms: 0,
            latency_ms: None,
        };
        let w = MaintenanceWindow {
            id: 1,
            title: "DB upgrade".into(),
            starts_ms: 1000,
            ends_ms: 2000,
            components: vec!["db".into()],
        };
        let cs = [c("db"), c("web")];
        assert_eq!(apply(&cs, std::slice::from_ref(&w), 999)[0].level, Level::MajorOutage);
        let during = apply(&cs, std::slice::from_ref(&w), 1000);
        assert_eq!((during[0].level, during[1].level), (Level::UnderMaintenance, Level::MajorOutage));
        assert!(during[0].reason.starts_with("DB upgrade (maintenance until 1970-01-01T00:00:02Z"));
        assert_eq!(apply(&cs, &[w], 2000)[0].level, Level::MajorOutage, "ends on time");
    }
}
