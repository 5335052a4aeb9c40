//! Incidents: what operators tell viewers while something is wrong, and scheduled
//! maintenance announced in advance.

use super::Level;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// How bad an incident is (Statuspage's vocabulary). An active incident raises the overall
/// level to at least [`Impact::level`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
}

impl Impact {
    pub const ALL: [Impact; 4] = [Impact::None, Impact::Minor, Impact::Major, Impact::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Minor => "minor",
            Impact::Major => "major",
            Impact::Critical => "critical",
        }
    }

    /// The overall level an active incident of this impact implies.
    pub fn level(self) -> Level {
        match self {
            Impact::None => Level::Operational,
            Impact::Minor => Level::DegradedPerformance,
            Impact::Major => Level::PartialOutage,
            Impact::Critical => Level::MajorOutage,
        }
    }
}

/// Where an incident stands; the last update's status is the incident's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 4] =
        [IncidentStatus::Investigating, IncidentStatus::Identified, IncidentStatus::Monitoring, IncidentStatus::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "Investigating",
            IncidentStatus::Identified => "Identified",
            IncidentStatus::Monitoring => "Monitoring",
            IncidentStatus::Resolved => "Resolved",
        }
    }
}

/// A name that is not one of a fixed set; says which names are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    pub what: &'static str,
    pub got: String,
    pub expected: Vec<&'static str>,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown {} {:?}; expected one of {}", self.what, self.got, self.expected.join(", "))
    }
}

/// The one of `all` named `s`, or an error naming the choices.
fn named<T: Copy>(what: &'static str, all: &[T], as_str: fn(T) -> &'static str, s: &str) -> Result<T, UnknownName> {
    all.iter().copied().find(|x| as_str(*x) == s).ok_or_else(|| UnknownName {
        what,
        got: s.into(),
        expected: all.iter().map(|x| as_str(*x)).collect(),
    })
}

impl FromStr for Impact {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        named("impact", &Impact::ALL, Impact::as_str, s)
    }
}

impl FromStr for IncidentStatus {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        named("status", &IncidentStatus::ALL, IncidentStatus::as_str, s)
    }
}

/// One entry of an incident's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentUpdate {
    pub at_ms: i64,
    pub status: IncidentStatus,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    pub impact: Impact,
    /// Ids of the affected components (may be empty).
    #[serde(default)]
    pub components: Vec<String>,
    pub status: IncidentStatus,
    pub started_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_ms: Option<i64>,
    /// Newest first.
    pub updates: Vec<IncidentUpdate>,
}

/// A scheduled maintenance window: during [starts_ms, ends_ms) its components are
/// `under_maintenance`. Shown from when it is scheduled until it ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub id: i64,
    pub title: String,
    pub starts_ms: i64,
    pub ends_ms: i64,
    pub components: Vec<String>,
}

impl MaintenanceWindow {
    pub fn active_at(&self, now_ms: i64) -> bool {
        self.starts_ms <= now_ms && now_ms < self.ends_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_choices() {
        for i in Impact::ALL {
            assert_eq!(serde_json::to_string(&i).unwrap(), format!("\"{}\"", i.as_str()));
            assert_eq!(i.as_str().parse::<Impact>().unwrap(), i);
        }
        for s in IncidentStatus::ALL {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
            assert_eq!(s.as_str().parse::<IncidentStatus>().unwrap(), s);
        }
        let e = "fixed".parse::<IncidentStatus>().unwrap_err().to_string();
        assert_eq!(e, "unknown status \"fixed\"; expected one of investigating, identified, monitoring, resolved");
    }

    #[test]
    fn impact_maps_to_a_level_in_order() {
        let levels: Vec<Level> = Impact::ALL.iter().map(|i| i.level()).collect();
        assert!(levels.windows(2).all(|w| w[0] < w[1]), "{levels:?}");
        assert_eq!(Impact::Critical.level(), Level::MajorOutage);
    }
}
