use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A status level, in Atlassian Statuspage's vocabulary.
///
/// The derived order is the *severity* order used to pick the worst component:
/// `Operational < UnderMaintenance < DegradedPerformance < PartialOutage < MajorOutage`.
/// (Maintenance is planned, so any real failure outranks it.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl Level {
    pub const ALL: [Level; 5] =
        [Level::Operational, Level::DegradedPerformance, Level::PartialOutage, Level::MajorOutage, Level::UnderMaintenance];

    /// The wire name (`degraded_performance`), also used as a CSS class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Operational => "operational",
            Level::DegradedPerformance => "degraded_performance",
            Level::PartialOutage => "partial_outage",
            Level::MajorOutage => "major_outage",
            Level::UnderMaintenance => "under_maintenance",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Level::Operational => "Operational",
            Level::DegradedPerformance => "Degraded performance",
            Level::PartialOutage => "Partial outage",
            Level::MajorOutage => "Major outage",
            Level::UnderMaintenance => "Under maintenance",
        }
    }

    /// A glyph that carries the level without relying on colour alone.
    pub fn icon(self) -> &'static str {
        match self {
            Level::Operational => "✓",
            Level::DegradedPerformance => "!",
            Level::PartialOutage => "◐",
            Level::MajorOutage => "✕",
            Level::UnderMaintenance => "⚒",
        }
    }

    /// The default headline for an overall level when no operator message is set.
    pub fn headline(self) -> &'static str {
        match self {
            Level::Operational => "All systems operational",
            Level::DegradedPerformance => "Some systems are degraded",
            Level::PartialOutage => "Partial outage",
            Level::MajorOutage => "Major outage",
            Level::UnderMaintenance => "Maintenance in progress",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a level name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLevel(pub String);

impl fmt::Display for UnknownLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown level {:?}; expected one of ", self.0)?;
        for (i, l) in Level::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(l.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownLevel {}

impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| UnknownLevel(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_str() {
        for level in Level::ALL {
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
            assert_eq!(serde_json::from_str::<Level>(&json).unwrap(), level);
            assert_eq!(level.as_str().parse::<Level>().unwrap(), level);
        }
    }

    #[test]
    fn unknown_level_names_the_choices() {
        let err = "broken".parse::<Level>().unwrap_err().to_string();
        assert!(err.contains("\"broken\""), "{err}");
        assert!(err.contains("major_outage"), "{err}");
    }

    #[test]
    fn severity_order_puts_outages_above_maintenance() {
        assert!(Level::MajorOutage > Level::PartialOutage);
        assert!(Level::PartialOutage > Level::DegradedPerformance);
        assert!(Level::DegradedPerformance > Level::UnderMaintenance);
        assert!(Level::UnderMaintenance > Level::Operational);
    }
}
