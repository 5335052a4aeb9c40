//! Host health: free disk on the data directory, available memory and load per core of the
//! machine statuscast runs on, each with degraded / outage thresholds.
//!
//! Sampling reads `/proc/meminfo`, `/proc/loadavg` and `statvfs(2)` (Linux).

use crate::model::{ComponentStatus, Level};
use crate::server::checks::config::{Fields, Probe};
use crate::server::checks::probe::Outcome;
use serde::Deserialize;
use std::path::Path;

/// Which host measure decides a check's level: disk, memory, load, or all (default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostMeasure {
    All,
    Disk,
    Memory,
    Load,
}

/// `kind = "host"` as written: thresholds (the defaults where absent), the path whose disk is
/// measured (default the data directory), and the measure that decides.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub disk_degraded_pct: Option<f64>,
    pub disk_outage_pct: Option<f64>,
    pub memory_degraded_pct: Option<f64>,
    pub memory_outage_pct: Option<f64>,
    pub load_degraded: Option<f64>,
    pub load_outage: Option<f64>,
    pub path: Option<String>,
    pub measure: Option<HostMeasure>,
    pub show_sizes: Option<bool>,
}

pub const FIELDS: &[&str] = &[
    "disk_degraded_pct",
    "disk_outage_pct",
    "memory_degraded_pct",
    "memory_outage_pct",
    "load_degraded",
    "load_outage",
    "path",
    "measure",
    "show_sizes",
];

pub fn validate(s: Settings, at: &Fields) -> Result<Probe, crate::server::checks::config::ConfigError> {
    let d = HostThresholds::default();
    // TOML has nan and inf: a threshold that is NaN compares false with everything, so the
    // check would never leave operational.
    let pct = |field: &str, v: Option<f64>, default: f64| match v.unwrap_or(default) {
        v if (0.0..=100.0).contains(&v) => Ok(v),
        v => Err(at.fail(field, format!("{v} is not a percentage from 0 to 100"))),
    };
    let load = |field: &str, v: Option<f64>, default: f64| match v.unwrap_or(default) {
        v if v.is_finite() && v >= 0.0 => Ok(v),
        v => Err(at.fail(field, format!("{v} is not a load per core (a number from 0)"))),
    };
    let thresholds = HostThresholds {
        disk_degraded_pct: pct("disk_degraded_pct", s.disk_degraded_pct, d.disk_degraded_pct)?,
        disk_outage_pct: pct("disk_outage_pct", s.disk_outage_pct, d.disk_outage_pct)?,
        memory_degraded_pct: pct("memory_degraded_pct", s.memory_degraded_pct, d.memory_degraded_pct)?,
        memory_outage_pct: pct("memory_outage_pct", s.memory_outage_pct, d.memory_outage_pct)?,
        load_degraded: load("load_degraded", s.load_degraded, d.load_degraded)?,
        load_outage: load("load_outage", s.load_outage, d.load_outage)?,
        show_sizes: s.show_sizes.unwrap_or(d.show_sizes),
    };
    if thresholds.disk_outage_pct > thresholds.disk_degraded_pct {
        return Err(at.fail("disk_outage_pct", "must not be above disk_degraded_pct"));
    }
    if thresholds.memory_outage_pct > thresholds.memory_degraded_pct {
        return Err(at.fail("memory_outage_pct", "must not be above memory_degraded_pct"));
    }
    if thresholds.load_outage < thresholds.load_degraded {
        return Err(at.fail("load_outage", "must not be below load_degraded"));
    }
    Ok(Probe::Host { thresholds, path: s.path, measure: s.measure.unwrap_or(HostMeasure::All) })
}

#[derive(Clone, Debug, PartialEq)]
pub struct HostThresholds {
    /// Free disk below this percentage → degraded.
    pub disk_degraded_pct: f64,
    /// Free disk below this percentage → major outage.
    pub disk_outage_pct: f64,
    /// Available memory below this percentage → degraded.
    pub memory_degraded_pct: f64,
    /// Available memory below this percentage → major outage.
    pub memory_outage_pct: f64,
    /// 1-minute load per core above this → degraded.
    pub load_degraded: f64,
    /// 1-minute load per core above this → major outage.
    pub load_outage: f64,
    /// Whether the public reasons give sizes (GiB of disk and memory, the core count), not
    /// only percentages and load per core. Off unless asked for: they tell anyone how big
    /// the machine is.
    pub show_sizes: bool,
}

impl Default for HostThresholds {
    fn default() -> Self {
        HostThresholds {
            disk_degraded_pct: 10.0,
            disk_outage_pct: 3.0,
            memory_degraded_pct: 10.0,
            memory_outage_pct: 3.0,
            load_degraded: 2.0,
            load_outage: 6.0,
            show_sizes: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HostSample {
    pub disk_free: u64,
    pub disk_total: u64,
    pub mem_available: u64,
    pub mem_total: u64,
    pub load1: f64,
    pub cpus: usize,
}

pub const GROUP: &str = "Host";

/// Why the host could not be measured (the check reports it as its reason).
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("statvfs {path}: {source}")]
    Disk { path: String, source: rustix::io::Errno },
    #[error("{file}: {source}")]
    Read { file: &'static str, source: std::io::Error },
    #[error("{file}: {what}")]
    Unreadable { file: &'static str, what: String },
}

pub fn sample(data_dir: &Path) -> Result<HostSample, SampleError> {
    let fs =
        rustix::fs::statvfs(data_dir).map_err(|source| SampleError::Disk { path: data_dir.display().to_string(), source })?;
    let read = |file: &'static str| std::fs::read_to_string(file).map_err(|source| SampleError::Read { file, source });
    let meminfo = read("/proc/meminfo")?;
    let loadavg = read("/proc/loadavg")?;
    let kib = |key: &str| -> Result<u64, SampleError> {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
            .map(|k| k * 1024)
            .ok_or_else(|| SampleError::Unreadable { file: "/proc/meminfo", what: format!("no {key}") })
    };
    let load1 = loadavg
        .split_whitespace()
        .next()
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| SampleError::Unreadable { file: "/proc/loadavg", what: "no load average".into() })?;
    Ok(HostSample {
        disk_free: fs.f_bavail * fs.f_frsize,
        disk_total: fs.f_blocks * fs.f_frsize,
        mem_available: kib("MemAvailable:")?,
        mem_total: kib("MemTotal:")?,
        load1,
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    })
}

/// The level and reason of one host measure, or of the worst of them.
pub fn outcome(parts: Vec<crate::model::ComponentStatus>, measure: HostMeasure) -> Outcome {
    let id = match measure {
        HostMeasure::Disk => Some("host.disk"),
        HostMeasure::Memory => Some("host.memory"),
        HostMeasure::Load => Some("host.load"),
        HostMeasure::All => None,
    };
    if let Some(part) = id.and_then(|id| parts.iter().find(|c| c.id == id)) {
        return Outcome { level: part.level, reason: part.reason.clone(), latency: None };
    }
    let worst = parts.iter().map(|c| c.level).max().unwrap_or(Level::Operational);
    let reason = parts
        .iter()
        .filter(|c| c.level == worst)
        .map(|c| format!("{}: {}", c.name.to_lowercase(), c.reason))
        .collect::<Vec<_>>()
        .join("; ");
    Outcome { level: worst, reason, latency: None }
}

fn gib(bytes: u64) -> String {
    let g = bytes as f64 / (1u64 << 30) as f64;
    if g >= 10.0 {
        format!("{g:.0} GiB")
    } else {
        format!("{g:.1} GiB")
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Lower-is-worse level for a free percentage.
fn level_below(value: f64, degraded: f64, outage: f64) -> Level {
    if value < outage {
        Level::MajorOutage
    } else if value < degraded {
        Level::DegradedPerformance
    } else {
        Level::Operational
    }
}

pub fn evaluate(s: &HostSample, t: &HostThresholds) -> Vec<ComponentStatus> {
    let disk_pct = pct(s.disk_free, s.disk_total);
    let mem_pct = pct(s.mem_available, s.mem_total);
    let per_core = s.load1 / s.cpus.max(1) as f64;
    let load_level = if per_core > t.load_outage {
        Level::MajorOutage
    } else if per_core > t.load_degraded {
        Level::DegradedPerformance
    } else {
        Level::Operational
    };
    let component = |id: &str, name: &str, level, reason| ComponentStatus {
        id: id.into(),
        name: name.into(),
        group: Some(GROUP.into()),
        level,
        reason,
        since_ms: 0,
        checked_at_ms: 0,
        latency_ms: None,
    };
    vec![
        component(
            "host.disk",
            "Disk space",
            level_below(disk_pct, t.disk_degraded_pct, t.disk_outage_pct),
            match t.show_sizes {
                true => format!("{disk_pct:.0}% free ({} of {})", gib(s.disk_free), gib(s.disk_total)),
                false => format!("{disk_pct:.0}% free"),
            },
        ),
        component(
            "host.memory",
            "Memory",
            level_below(mem_pct, t.memory_degraded_pct, t.memory_outage_pct),
            match t.show_sizes {
                true => format!("{mem_pct:.0}% available ({} of {})", gib(s.mem_available), gib(s.mem_total)),
                false => format!("{mem_pct:.0}% available"),
            },
        ),
        component(
            "host.load",
            "CPU load",
            load_level,
            match t.show_sizes {
                true => format!("load {per_core:.1} per core ({} cores)", s.cpus),
                false => format!("load {per_core:.1} per core"),
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> HostSample {
        HostSample {
            disk_free: 50 << 30,
            disk_total: 100 << 30,
            mem_available: 8 << 30,
            mem_total: 16 << 30,
            load1: 0.5,
            cpus: 2,
        }
    }

    fn levels(s: &HostSample, t: &HostThresholds) -> Vec<Level> {
        evaluate(s, t).into_iter().map(|c| c.level).collect()
    }

    #[test]
    fn a_healthy_host_is_operational_with_reasons() {
        let cs = evaluate(&healthy(), &HostThresholds::default());
        assert_eq!(cs.iter().map(|c| c.level).collect::<Vec<_>>(), vec![Level::Operational; 3]);
        assert_eq!(cs[0].reason, "50% free");
        assert_eq!(cs[1].reason, "50% available");
        assert_eq!(cs[2].reason, "load 0.2 per core");
        let sized = evaluate(&healthy(), &HostThresholds { show_sizes: true, ..HostThresholds::default() });
        assert_eq!(sized[0].reason, "50% free (50 GiB of 100 GiB)");
        assert_eq!(sized[1].reason, "50% available (8.0 GiB of 16 GiB)");
        assert_eq!(sized[2].reason, "load 0.2 per core (2 cores)");
    }

    #[test]
    fn each_threshold_degrades_then_breaks() {
        let t = HostThresholds::default();
        let mut s = healthy();
        s.disk_free = 8 << 30; // 8%
        s.mem_available = (16 << 30) / 50; // 2%
        s.load1 = 5.0; // 2.5 per core
        assert_eq!(levels(&s, &t), vec![Level::DegradedPerformance, Level::MajorOutage, Level::DegradedPerformance]);
        s.disk_free = 1 << 30;
        s.load1 = 13.0;
        assert_eq!(levels(&s, &t), vec![Level::MajorOutage; 3]);
    }

    #[test]
    fn sampling_this_machine_gives_sane_numbers() {
        let s = sample(Path::new(".")).unwrap();
        assert!(s.disk_total > 0 && s.disk_free <= s.disk_total, "{s:?}");
        assert!(s.mem_total > 0 && s.mem_available <= s.mem_total, "{s:?}");
        assert!(s.load1 >= 0.0 && s.cpus >= 1, "{s:?}");
    }
}
